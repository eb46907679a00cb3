DROP TABLE idempotency_keys;
DROP TABLE guardian_student_links;
DROP TABLE students;
DROP TABLE guardians;
DROP TABLE families;
