DROP TABLE system_settings;
DROP TABLE cron_runs;
DROP TABLE cron_slots;
DROP TABLE automation_steps;
DROP TABLE automation_settings;
