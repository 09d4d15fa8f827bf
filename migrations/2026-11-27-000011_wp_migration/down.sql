DROP TABLE migration_map;
DROP TABLE migration_issues;
DROP TABLE migration_runs;
