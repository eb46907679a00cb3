DROP TABLE school_settings;
DROP TABLE concern_events;
DROP TABLE concerns;
