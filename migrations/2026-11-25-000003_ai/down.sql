DROP TABLE ai_calls;
DROP TABLE ai_settings;
DROP TABLE model_rates;
