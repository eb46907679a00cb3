-- casefold(text) is supplied by the service on each SQLite connection (Unicode case folding);
-- PostgreSQL defines it in SQL. Nothing to store here.
SELECT 1;
