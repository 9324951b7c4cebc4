-- Views of the current database. VIEW_DEFINITION is empty without the SHOW VIEW privilege.
SELECT TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION, SECURITY_TYPE
FROM information_schema.VIEWS
WHERE TABLE_SCHEMA = DATABASE()
