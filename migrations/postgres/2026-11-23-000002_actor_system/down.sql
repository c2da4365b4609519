-- An enum value cannot be removed, and the app reads it as any other: it stays.
SELECT 1;
