"""What kind of failure a server error is, and the servers' own wording for the ones we predict.

``classify_error`` reads a MySQL/MariaDB error code (``1060``), a PostgreSQL SQLSTATE
(``42701``), or the text of an error as a driver or framework printed it (PyMySQL's
``(1060, "Duplicate column name 'priority'")``, Laravel's ``SQLSTATE[42S21]: Column already
exists: 1060 Duplicate column name 'priority' (SQL: ...)``, psycopg's message, SQLite's
``duplicate column name: priority``) and returns an :class:`ErrorClass`.

``server_error`` formats the message a server prints for an error the simulation predicts, so
diagnose can show it in the server's words. Wordings were taken from MariaDB 10.11, PostgreSQL 15
and SQLite 3.40 by running the statements (see ``tests/test_errorclass.py``), and from the vendor
references: https://mariadb.com/kb/en/mariadb-error-codes/ ,
https://dev.mysql.com/doc/mysql-errors/8.0/en/server-error-reference.html ,
https://www.postgresql.org/docs/current/errcodes-appendix.html .
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from dbmedic.normalize import family_of


class ErrorClass(StrEnum):
    DUPLICATE_COLUMN = "duplicate_column"
    DUPLICATE_TABLE = "duplicate_table"
    DUPLICATE_KEY_NAME = "duplicate_key_name"
    UNKNOWN_COLUMN = "unknown_column"
    UNKNOWN_TABLE = "unknown_table"
    UNKNOWN_KEY = "unknown_key"
    """An index, key or constraint that a statement drops or names does not exist."""
    FOREIGN_KEY = "foreign_key"
    """A foreign key with a missing parent table/column or incompatible column types."""
    DATA_TRUNCATION_OR_INVALID_DEFAULT = "data_truncation_or_invalid_default"
    SYNTAX_ERROR = "syntax_error"
    PERMISSION_DENIED = "permission_denied"
    LOCK_WAIT_TIMEOUT = "lock_wait_timeout"
    OTHER = "other"


E = ErrorClass

# MySQL / MariaDB error numbers (https://mariadb.com/kb/en/mariadb-error-codes/).
_MYSQL_CODES: dict[int, ErrorClass] = {
    1060: E.DUPLICATE_COLUMN,  # ER_DUP_FIELDNAME
    1050: E.DUPLICATE_TABLE,  # ER_TABLE_EXISTS_ERROR
    1061: E.DUPLICATE_KEY_NAME,  # ER_DUP_KEYNAME
    1068: E.DUPLICATE_KEY_NAME,  # ER_MULTIPLE_PRI_KEY
    1826: E.DUPLICATE_KEY_NAME,  # ER_FK_DUP_NAME (MySQL 8)
    1054: E.UNKNOWN_COLUMN,  # ER_BAD_FIELD_ERROR
    1072: E.UNKNOWN_COLUMN,  # ER_KEY_COLUMN_DOES_NOT_EXIST
    1146: E.UNKNOWN_TABLE,  # ER_NO_SUCH_TABLE
    1051: E.UNKNOWN_TABLE,  # ER_BAD_TABLE_ERROR
    4092: E.UNKNOWN_TABLE,  # ER_UNKNOWN_VIEW (MariaDB)
    1176: E.UNKNOWN_KEY,  # ER_KEY_DOES_NOT_EXIST
    1005: E.FOREIGN_KEY,  # ER_CANT_CREATE_TABLE (errno 150: foreign key incorrectly formed)
    1215: E.FOREIGN_KEY,  # ER_CANNOT_ADD_FOREIGN
    1216: E.FOREIGN_KEY,  # ER_NO_REFERENCED_ROW
    1217: E.FOREIGN_KEY,  # ER_ROW_IS_REFERENCED
    1451: E.FOREIGN_KEY,  # ER_ROW_IS_REFERENCED_2
    1452: E.FOREIGN_KEY,  # ER_NO_REFERENCED_ROW_2
    1822: E.FOREIGN_KEY,  # ER_FK_NO_INDEX_PARENT
    1824: E.FOREIGN_KEY,  # ER_FK_CANNOT_OPEN_PARENT
    1825: E.FOREIGN_KEY,  # ER_FK_INCORRECT_OPTION
    1828: E.FOREIGN_KEY,  # ER_FK_COLUMN_CANNOT_DROP
    1830: E.FOREIGN_KEY,  # ER_FK_COLUMN_NOT_NULL
    3734: E.FOREIGN_KEY,  # ER_FK_NO_COLUMN_PARENT (MySQL 8)
    3780: E.FOREIGN_KEY,  # ER_FK_INCOMPATIBLE_COLUMNS (MySQL 8)
    1265: E.DATA_TRUNCATION_OR_INVALID_DEFAULT,  # WARN_DATA_TRUNCATED
    1292: E.DATA_TRUNCATION_OR_INVALID_DEFAULT,  # ER_TRUNCATED_WRONG_VALUE
    1366: E.DATA_TRUNCATION_OR_INVALID_DEFAULT,  # ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
    1067: E.DATA_TRUNCATION_OR_INVALID_DEFAULT,  # ER_INVALID_DEFAULT
    1406: E.DATA_TRUNCATION_OR_INVALID_DEFAULT,  # ER_DATA_TOO_LONG
    1264: E.DATA_TRUNCATION_OR_INVALID_DEFAULT,  # ER_WARN_DATA_OUT_OF_RANGE
    1138: E.DATA_TRUNCATION_OR_INVALID_DEFAULT,  # ER_INVALID_USE_OF_NULL
    1064: E.SYNTAX_ERROR,  # ER_PARSE_ERROR
    1149: E.SYNTAX_ERROR,  # ER_SYNTAX_ERROR
    1142: E.PERMISSION_DENIED,  # ER_TABLEACCESS_DENIED_ERROR
    1143: E.PERMISSION_DENIED,  # ER_COLUMNACCESS_DENIED_ERROR
    1044: E.PERMISSION_DENIED,  # ER_DBACCESS_DENIED_ERROR
    1045: E.PERMISSION_DENIED,  # ER_ACCESS_DENIED_ERROR
    1227: E.PERMISSION_DENIED,  # ER_SPECIFIC_ACCESS_DENIED_ERROR
    1290: E.PERMISSION_DENIED,  # ER_OPTION_PREVENTS_STATEMENT (--read-only)
    1792: E.PERMISSION_DENIED,  # ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
    1205: E.LOCK_WAIT_TIMEOUT,  # ER_LOCK_WAIT_TIMEOUT
    1213: E.LOCK_WAIT_TIMEOUT,  # ER_LOCK_DEADLOCK
}

# PostgreSQL SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html).
_PG_STATES: dict[str, ErrorClass] = {
    "42701": E.DUPLICATE_COLUMN,  # duplicate_column
    "42P07": E.DUPLICATE_TABLE,  # duplicate_table (any relation: table, view, index, sequence)
    "42710": E.DUPLICATE_KEY_NAME,  # duplicate_object (constraint ... already exists)
    "42P16": E.DUPLICATE_KEY_NAME,  # invalid_table_definition (multiple primary keys)
    "42703": E.UNKNOWN_COLUMN,  # undefined_column
    "42P01": E.UNKNOWN_TABLE,  # undefined_table
    "42704": E.UNKNOWN_KEY,  # undefined_object (index / constraint does not exist)
    "23503": E.FOREIGN_KEY,  # foreign_key_violation
    "42830": E.FOREIGN_KEY,  # invalid_foreign_key
    "42804": E.FOREIGN_KEY,  # datatype_mismatch (raised for incompatible key columns)
    "22001": E.DATA_TRUNCATION_OR_INVALID_DEFAULT,  # string_data_right_truncation
    "22003": E.DATA_TRUNCATION_OR_INVALID_DEFAULT,  # numeric_value_out_of_range
    "22007": E.DATA_TRUNCATION_OR_INVALID_DEFAULT,  # invalid_datetime_format
    "22008": E.DATA_TRUNCATION_OR_INVALID_DEFAULT,  # datetime_field_overflow
    "22P02": E.DATA_TRUNCATION_OR_INVALID_DEFAULT,  # invalid_text_representation
    "23502": E.DATA_TRUNCATION_OR_INVALID_DEFAULT,  # not_null_violation
    "42601": E.SYNTAX_ERROR,  # syntax_error
    "42501": E.PERMISSION_DENIED,  # insufficient_privilege
    "25006": E.PERMISSION_DENIED,  # read_only_sql_transaction
    "28000": E.PERMISSION_DENIED,  # invalid_authorization_specification
    "28P01": E.PERMISSION_DENIED,  # invalid_password
    "55P03": E.LOCK_WAIT_TIMEOUT,  # lock_not_available
    "40P01": E.LOCK_WAIT_TIMEOUT,  # deadlock_detected
    "57014": E.LOCK_WAIT_TIMEOUT,  # query_canceled (statement_timeout / lock_timeout)
}

# Texts, tried in order, for messages that carry no code (SQLite always; others as a fallback).
_TEXTS: tuple[tuple[str, ErrorClass], ...] = (
    (
        r"duplicate column name|column \S+ (of relation \S+ )?already exists|"
        r"specified more than once",
        E.DUPLICATE_COLUMN,
    ),
    (
        r"duplicate key name|index \S+ already exists|multiple primary key|"
        r"constraint \S+ for relation \S+ already exists|duplicate foreign key constraint name",
        E.DUPLICATE_KEY_NAME,
    ),
    (
        r"table \S+ already exists|relation \S+ already exists|"
        r"there is already another table or index",
        E.DUPLICATE_TABLE,
    ),
    (r"foreign key|errno: 150|referenced table|no unique constraint matching", E.FOREIGN_KEY),
    (
        r"unknown column|no such column|column \S+ (of relation \S+ )?does not exist|"
        r"key column \S+ doesn't exist",
        E.UNKNOWN_COLUMN,
    ),
    (
        r"unknown table|no such table|doesn't exist|relation \S+ does not exist|"
        r"table \S+ does not exist|no such view|unknown view|view \S+ does not exist",
        E.UNKNOWN_TABLE,
    ),
    (
        r"can't drop|no such index|index \S+ does not exist|constraint \S+ .*does not exist",
        E.UNKNOWN_KEY,
    ),
    (
        r"data truncated|incorrect \S+ value|invalid default value|invalid input syntax|"
        r"value too long|out of range|cannot add a not null column|default value of column .* "
        r"is not constant|violates not-null constraint|not null constraint failed",
        E.DATA_TRUNCATION_OR_INVALID_DEFAULT,
    ),
    (r"syntax error|error in your sql syntax", E.SYNTAX_ERROR),
    (
        r"denied|permission|insufficient privilege|lacks the \S+ privilege|read-only|readonly|"
        r"must be owner",
        E.PERMISSION_DENIED,
    ),
    (
        r"lock wait timeout|deadlock|database is locked|database table is locked|"
        r"could not obtain lock|lock timeout|canceling statement due to lock timeout",
        E.LOCK_WAIT_TIMEOUT,
    ),
)
_TEXT_PATTERNS = tuple((re.compile(p, re.IGNORECASE), c) for p, c in _TEXTS)

# Where a MySQL error number sits in the texts drivers and frameworks print.
_MYSQL_CODE_IN_TEXT = (
    re.compile(r"^\s*\(?\s*(\d{4})\s*[,)]"),  # PyMySQL / mysqlclient: (1060, "...")
    re.compile(r"\bERROR\s+(\d{4})\b"),  # mysql client: ERROR 1060 (42S21) at line 1: ...
    re.compile(r"SQLSTATE\[\w{5}\]:[^:]*:\s*(\d{4})\b"),  # PDO: SQLSTATE[42S21]: ...: 1060 ...
    re.compile(r"\b(?:error|errno|code)[:\s]+(\d{4})\b", re.IGNORECASE),
)
_SQLSTATE_IN_TEXT = (
    re.compile(r"SQLSTATE\[(\w{5})\]"),  # PDO
    re.compile(r"\bSQLSTATE[:= ]+(\w{5})\b", re.IGNORECASE),
    re.compile(r"^\s*(\w{5})\s*$"),
)
_INDEX_STATEMENT = re.compile(
    r"^\s*create\s+(unique\s+)?index|add\s+(constraint\s+\S+\s+)?(unique|primary)",
    re.IGNORECASE,
)


def classify_error(
    dialect_family: str, message_or_code: str | int, statement: str | None = None
) -> ErrorClass:
    """The class of a server error, from its code or its text (never raises).

    ``dialect_family`` is ``mysql`` (also ``mariadb``), ``postgresql`` or ``sqlite``.
    ``statement`` optionally tells apart what codes alone cannot: PostgreSQL's 42P07 "relation
    already exists" is a duplicate key name when the statement creates an index or a key.
    """
    family = family_of(dialect_family)
    found: ErrorClass | None = None
    text = str(message_or_code)
    if family == "mysql":
        found = _mysql_class(text, statement or "")
    elif family == "postgresql":
        state = _sqlstate(text)
        found = _PG_STATES.get(state) if state else None
        if state == "42703" and "foreign key" in text.lower():
            found = E.FOREIGN_KEY
    if found is None:
        found = _text_class(text)
    if found is E.DUPLICATE_TABLE and statement and _INDEX_STATEMENT.search(statement):
        return E.DUPLICATE_KEY_NAME
    if found is E.UNKNOWN_TABLE and statement:
        m = re.search(r'relation "([^"]+)" does not exist', text)
        if m and re.search(
            r"references\s+[`\"]?" + re.escape(m.group(1)) + r"\b", statement, re.IGNORECASE
        ):
            return E.FOREIGN_KEY
    if found is E.UNKNOWN_KEY and re.search(r"drop column", text, re.IGNORECASE):
        return E.UNKNOWN_COLUMN
    return found


def _mysql_class(text: str, statement: str) -> ErrorClass | None:
    code: int | None = int(text) if text.strip().isdigit() else None
    if code is None:
        for pattern in _MYSQL_CODE_IN_TEXT:
            m = pattern.search(text)
            if m:
                code = int(m.group(1))
                break
    if code is None:
        return None
    if code == 1091:  # ER_CANT_DROP_FIELD_OR_KEY: column or key, the text says which
        # MariaDB says "DROP COLUMN `x`" / "DROP INDEX `x`"; MySQL 8 says "Can't DROP 'x'; check
        # that column/key exists", and only the statement tells which.
        if re.search(r"DROP (INDEX|FOREIGN KEY|CONSTRAINT|CHECK)", text, re.IGNORECASE):
            return E.UNKNOWN_KEY
        if re.search(r"DROP COLUMN", text, re.IGNORECASE):
            return E.UNKNOWN_COLUMN
        keyish = r"\bdrop\s+(index|key|foreign\s+key|constraint|primary|check)\b"
        return E.UNKNOWN_KEY if re.search(keyish, statement, re.IGNORECASE) else E.UNKNOWN_COLUMN
    if code == 1005 and "errno: 121" in text:  # duplicate constraint name (InnoDB)
        return E.DUPLICATE_KEY_NAME
    return _MYSQL_CODES.get(code)


def _sqlstate(text: str) -> str | None:
    if len(text.strip()) == 5:
        return text.strip().upper()
    for pattern in _SQLSTATE_IN_TEXT:
        m = pattern.search(text)
        if m:
            return m.group(1).upper()
    return None


def _text_class(text: str) -> ErrorClass:
    for pattern, cls in _TEXT_PATTERNS:
        if pattern.search(text):
            return cls
    return E.OTHER


# --- the servers' wording of predicted errors -----------------------------------------------


@dataclass(frozen=True, slots=True)
class ServerError:
    """An error as the server would raise it: class, code (MySQL number or SQLSTATE), text."""

    error_class: ErrorClass
    code: str | None
    message: str

    def __str__(self) -> str:
        return self.message if self.code is None else f"{self.code} {self.message}"


# Templates per dialect: key -> (class, code, text). Fields: {table} {column} {name} {ref}
# {ref_column} {qualified} (db.table as the server prints it) {ltype} {rtype}.
_MARIADB: dict[str, tuple[ErrorClass, str | None, str]] = {
    "duplicate_column": (E.DUPLICATE_COLUMN, "1060", "Duplicate column name '{column}'"),
    "duplicate_table": (E.DUPLICATE_TABLE, "1050", "Table '{table}' already exists"),
    "duplicate_key": (E.DUPLICATE_KEY_NAME, "1061", "Duplicate key name '{name}'"),
    "duplicate_constraint": (
        E.DUPLICATE_KEY_NAME,
        "1005",
        'Can\'t create table {qualified_bq} (errno: 121 "Duplicate key on write or update")',
    ),
    "multiple_primary_key": (E.DUPLICATE_KEY_NAME, "1068", "Multiple primary key defined"),
    "unknown_column": (E.UNKNOWN_COLUMN, "1054", "Unknown column '{column}' in '{table}'"),
    "key_column_missing": (
        E.UNKNOWN_COLUMN,
        "1072",
        "Key column '{column}' doesn't exist in table",
    ),
    "drop_missing_column": (
        E.UNKNOWN_COLUMN,
        "1091",
        "Can't DROP COLUMN `{column}`; check that it exists",
    ),
    "drop_missing_index": (
        E.UNKNOWN_KEY,
        "1091",
        "Can't DROP INDEX `{name}`; check that it exists",
    ),
    "drop_missing_foreign_key": (
        E.UNKNOWN_KEY,
        "1091",
        "Can't DROP FOREIGN KEY `{name}`; check that it exists",
    ),
    "drop_missing_constraint": (
        E.UNKNOWN_KEY,
        "1091",
        "Can't DROP CONSTRAINT `{name}`; check that it exists",
    ),
    "unknown_table": (E.UNKNOWN_TABLE, "1146", "Table '{qualified}' doesn't exist"),
    "drop_missing_table": (E.UNKNOWN_TABLE, "1051", "Unknown table '{qualified}'"),
    "drop_missing_view": (E.UNKNOWN_TABLE, "4092", "Unknown VIEW: '{qualified}'"),
    "duplicate_view": (E.DUPLICATE_TABLE, "1050", "Table '{table}' already exists"),
    "fk_missing_parent": (
        E.FOREIGN_KEY,
        "1005",
        'Can\'t create table {qualified_bq} (errno: 150 "Foreign key constraint is incorrectly formed")',
    ),
    "drop_missing_trigger": (E.UNKNOWN_TABLE, "1360", "Trigger does not exist"),
    "duplicate_trigger": (E.DUPLICATE_TABLE, "1359", "Trigger '{qualified}' already exists"),
}
_MARIADB["fk_missing_parent_column"] = _MARIADB["fk_missing_parent"]
_MARIADB["fk_incompatible"] = _MARIADB["fk_missing_parent"]
_MARIADB["fk_no_unique"] = _MARIADB["fk_missing_parent"]

_MYSQL = dict(_MARIADB)
_MYSQL.update(
    {
        "drop_missing_column": (
            E.UNKNOWN_COLUMN,
            "1091",
            "Can't DROP '{column}'; check that column/key exists",
        ),
        "drop_missing_index": (
            E.UNKNOWN_KEY,
            "1091",
            "Can't DROP '{name}'; check that column/key exists",
        ),
        "drop_missing_foreign_key": (
            E.UNKNOWN_KEY,
            "1091",
            "Can't DROP '{name}'; check that column/key exists",
        ),
        "drop_missing_constraint": (E.UNKNOWN_KEY, "3940", "Constraint '{name}' does not exist."),
        "duplicate_constraint": (
            E.DUPLICATE_KEY_NAME,
            "1826",
            "Duplicate foreign key constraint name '{name}'",
        ),
        "fk_missing_parent": (E.FOREIGN_KEY, "1824", "Failed to open the referenced table '{ref}'"),
        "fk_missing_parent_column": (
            E.FOREIGN_KEY,
            "3734",
            "Failed to add the foreign key constraint. Missing column '{ref_column}' for "
            "constraint '{name}' in the referenced table '{ref}'",
        ),
        "fk_incompatible": (
            E.FOREIGN_KEY,
            "3780",
            "Referencing column '{column}' and referenced column '{ref_column}' in foreign key "
            "constraint '{name}' are incompatible.",
        ),
        "fk_no_unique": (
            E.FOREIGN_KEY,
            "1822",
            "Failed to add the foreign key constraint. Missing index for constraint '{name}' "
            "in the referenced table '{ref}'",
        ),
        "drop_missing_view": (E.UNKNOWN_TABLE, "1051", "Unknown table '{qualified}'"),
    }
)

_POSTGRES: dict[str, tuple[ErrorClass, str | None, str]] = {
    "duplicate_column": (
        E.DUPLICATE_COLUMN,
        "42701",
        'column "{column}" of relation "{table}" already exists',
    ),
    "duplicate_column_in_create": (
        E.DUPLICATE_COLUMN,
        "42701",
        'column "{column}" specified more than once',
    ),
    "duplicate_table": (E.DUPLICATE_TABLE, "42P07", 'relation "{table}" already exists'),
    "duplicate_key": (E.DUPLICATE_KEY_NAME, "42P07", 'relation "{name}" already exists'),
    "duplicate_constraint": (
        E.DUPLICATE_KEY_NAME,
        "42710",
        'constraint "{name}" for relation "{table}" already exists',
    ),
    "multiple_primary_key": (
        E.DUPLICATE_KEY_NAME,
        "42P16",
        'multiple primary keys for table "{table}" are not allowed',
    ),
    "unknown_column": (
        E.UNKNOWN_COLUMN,
        "42703",
        'column "{column}" of relation "{table}" does not exist',
    ),
    "rename_missing_column": (E.UNKNOWN_COLUMN, "42703", 'column "{column}" does not exist'),
    "key_column_missing": (E.UNKNOWN_COLUMN, "42703", 'column "{column}" does not exist'),
    "drop_missing_column": (
        E.UNKNOWN_COLUMN,
        "42703",
        'column "{column}" of relation "{table}" does not exist',
    ),
    "drop_missing_index": (E.UNKNOWN_KEY, "42704", 'index "{name}" does not exist'),
    "drop_missing_constraint": (
        E.UNKNOWN_KEY,
        "42704",
        'constraint "{name}" of relation "{table}" does not exist',
    ),
    "unknown_table": (E.UNKNOWN_TABLE, "42P01", 'relation "{table}" does not exist'),
    "drop_missing_table": (E.UNKNOWN_TABLE, "42P01", 'table "{table}" does not exist'),
    "drop_missing_view": (E.UNKNOWN_TABLE, "42P01", 'view "{table}" does not exist'),
    "duplicate_view": (E.DUPLICATE_TABLE, "42P07", 'relation "{table}" already exists'),
    # 42P01 alone is "unknown table"; for a REFERENCES target it is a foreign key problem
    # (classify_error tells them apart with the statement).
    "fk_missing_parent": (E.FOREIGN_KEY, "42P01", 'relation "{ref}" does not exist'),
    "fk_missing_parent_column": (
        E.FOREIGN_KEY,
        "42703",
        'column "{ref_column}" referenced in foreign key constraint does not exist',
    ),
    "fk_child_column_missing": (
        E.FOREIGN_KEY,
        "42703",
        'column "{column}" referenced in foreign key constraint does not exist',
    ),
    "fk_incompatible": (
        E.FOREIGN_KEY,
        "42804",
        'foreign key constraint "{name}" cannot be implemented',
    ),
    "fk_no_unique": (
        E.FOREIGN_KEY,
        "42830",
        'there is no unique constraint matching given keys for referenced table "{ref}"',
    ),
    "drop_missing_trigger": (
        E.UNKNOWN_KEY,
        "42704",
        'trigger "{name}" for table "{table}" does not exist',
    ),
    "duplicate_trigger": (
        E.DUPLICATE_KEY_NAME,
        "42710",
        'trigger "{name}" for relation "{table}" already exists',
    ),
}
_POSTGRES["drop_missing_foreign_key"] = _POSTGRES["drop_missing_constraint"]

_SQLITE: dict[str, tuple[ErrorClass, str | None, str]] = {
    "duplicate_column": (E.DUPLICATE_COLUMN, None, "duplicate column name: {column}"),
    "duplicate_table": (E.DUPLICATE_TABLE, None, "table {table} already exists"),
    "duplicate_key": (E.DUPLICATE_KEY_NAME, None, "index {name} already exists"),
    "unknown_column": (E.UNKNOWN_COLUMN, None, 'no such column: "{column}"'),
    "key_column_missing": (E.UNKNOWN_COLUMN, None, "no such column: {column}"),
    "drop_missing_column": (E.UNKNOWN_COLUMN, None, 'no such column: "{column}"'),
    "drop_missing_index": (E.UNKNOWN_KEY, None, "no such index: {name}"),
    "unknown_table": (E.UNKNOWN_TABLE, None, "no such table: {table}"),
    "drop_missing_table": (E.UNKNOWN_TABLE, None, "no such table: {table}"),
    "drop_missing_view": (E.UNKNOWN_TABLE, None, "no such view: {table}"),
    "duplicate_view": (E.DUPLICATE_TABLE, None, "table {table} already exists"),
    "rename_target_exists": (
        E.DUPLICATE_TABLE,
        None,
        "there is already another table or index with this name: {table}",
    ),
    "drop_missing_trigger": (E.UNKNOWN_KEY, None, "no such trigger: {name}"),
    "duplicate_trigger": (E.DUPLICATE_KEY_NAME, None, "trigger {name} already exists"),
}

_WORDING = {"mariadb": _MARIADB, "mysql": _MYSQL, "postgresql": _POSTGRES, "sqlite": _SQLITE}


def server_error(dialect: str, key: str, **fields: str) -> ServerError:
    """The error ``dialect`` raises for situation ``key``, in its own words.

    ``qualified`` defaults to ``table`` (the server prints ``db.table`` when it knows the
    database; pass ``qualified`` to match exactly). Unknown keys for a dialect fall back to the
    generic wording of the situation with class OTHER, never to another server's words.
    """
    name = dialect if dialect in _WORDING else family_of(dialect)
    table = _WORDING.get(name, {})
    fields.setdefault("qualified", fields.get("table", ""))
    fields.setdefault(
        "qualified_bq", ".".join(f"`{p}`" for p in fields["qualified"].split(".") if p)
    )
    if key not in table:
        return ServerError(E.OTHER, None, key.replace("_", " ") + f" ({fields})")
    cls, code, template = table[key]
    return ServerError(cls, code, template.format_map(_Default(fields)))


class _Default(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"
