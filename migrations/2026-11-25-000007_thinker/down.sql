DROP TABLE prompt_overrides;
