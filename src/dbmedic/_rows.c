/* dbmedic._rows: render a MariaDB/MySQL result as the VALUES text of an INSERT, in C.
 *
 * The built-in dumper's ``mysql-keys`` scan has the server render every row as a literal
 * (CONCAT/QUOTE/HEX). This module reads plain column values instead, on the connection of
 * mysqlclient (its ``_get_native_connection()`` capsule), and writes byte for byte what the
 * server's rendering gives (tests/test_backup_rows.py compares both): the server does no string
 * work and no Python object is made per row or value (bench/RESULTS.md, backup).
 *
 * fetch(capsule, kinds, error) reads the result of the query sent last (mysql_send_query, by
 * mysqlclient's ``send_query``), with the GIL released, and returns (rows, text, first, last):
 * the row count, the rows as ``(v,v,...)`` joined by ``,\n``, and the first column of the first
 * and last rows (b"" when there are none). ``kinds`` has one letter per column: ``n`` a number
 * (NULL written ``null``), ``t`` text (quoted, escaped as QUOTE() does: backslash, quote, NUL,
 * Ctrl-Z; NULL written ``NULL``), ``q`` binary, quoted as text behind ``_binary``, ``b`` binary
 * in hex (``X'HEX'``, the older backups; NULL written ``NULL``). An error of the server or the
 * connection raises ``error(errno, message)``.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <mysql.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *data;
    size_t used, size;
} buffer;

static int reserve(buffer *b, size_t more) {
    if (b->used + more <= b->size)
        return 0;
    size_t size = b->size ? b->size : 1 << 16;
    while (size < b->used + more)
        size *= 2;
    char *grown = realloc(b->data, size);
    if (grown == NULL)
        return -1;
    b->data = grown;
    b->size = size;
    return 0;
}

static void put(buffer *b, const char *s, size_t n) {
    memcpy(b->data + b->used, s, n);
    b->used += n;
}

static const char HEX[] = "0123456789ABCDEF";

/* Each byte's two hex digits, as HEX() writes them. */
static char HEX_PAIRS[256][2];

/* Bytes that QUOTE() escapes, and what follows the backslash for each. */
static unsigned char ESCAPED[256];

static void init_tables(void) {
    for (int c = 0; c < 256; c++) {
        HEX_PAIRS[c][0] = HEX[c >> 4];
        HEX_PAIRS[c][1] = HEX[c & 15];
    }
    ESCAPED['\\'] = '\\';
    ESCAPED['\''] = '\'';
    ESCAPED[0] = '0';
    ESCAPED['\032'] = 'Z';
}

/* Appends one value; -1 when out of memory. */
static int render(buffer *b, char kind, const char *v, unsigned long n) {
    if (v == NULL) {
        if (reserve(b, 4))
            return -1;
        put(b, kind == 'n' ? "null" : "NULL", 4);
        return 0;
    }
    if (kind == 'n') {
        if (reserve(b, n))
            return -1;
        put(b, v, n);
        return 0;
    }
    if (kind == 'b') {
        if (reserve(b, 2 * (size_t)n + 3))
            return -1;
        char *out = b->data + b->used;
        *out++ = 'X';
        *out++ = '\'';
        for (unsigned long i = 0; i < n; i++, out += 2)
            memcpy(out, HEX_PAIRS[(unsigned char)v[i]], 2);
        *out++ = '\'';
        b->used = (size_t)(out - b->data);
        return 0;
    }
    int binary = kind == 'q';
    if (reserve(b, 2 * (size_t)n + 2 + (binary ? 7 : 0)))
        return -1;
    char *out = b->data + b->used;
    if (binary) {
        memcpy(out, "_binary", 7);
        out += 7;
    }
    *out++ = '\'';
    const unsigned char *from = (const unsigned char *)v, *end = from + n;
    while (from < end) {  /* runs without an escaped byte are copied whole */
        const unsigned char *stop = from;
        while (stop < end && !ESCAPED[*stop])
            stop++;
        memcpy(out, from, (size_t)(stop - from));
        out += stop - from;
        if (stop == end)
            break;
        *out++ = '\\';
        *out++ = (char)ESCAPED[*stop];
        from = stop + 1;
    }
    *out++ = '\'';
    b->used = (size_t)(out - b->data);
    return 0;
}

static PyObject *raise_from(MYSQL *mysql, PyObject *error) {
    PyObject *args = Py_BuildValue("(is)", (int)mysql_errno(mysql), mysql_error(mysql));
    if (args != NULL) {
        PyErr_SetObject(error, args);
        Py_DECREF(args);
    }
    return NULL;
}

static PyObject *fetch(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *capsule, *error;
    const char *kinds;
    Py_ssize_t width;
    if (!PyArg_ParseTuple(args, "Oy#O", &capsule, &kinds, &width, &error))
        return NULL;
    MYSQL *mysql = PyCapsule_GetPointer(capsule, "_mysql.connection.native_connection");
    if (mysql == NULL)
        return NULL;

    buffer b = {NULL, 0, 0};
    buffer first = {NULL, 0, 0}, last = {NULL, 0, 0};
    long long rows = 0;
    int failed = 0, nomem = 0, columns = 0;
    MYSQL_RES *result = NULL;
    Py_BEGIN_ALLOW_THREADS
    /* unbuffered: each row is rendered from the network buffer, never copied into a result set */
    if (mysql_read_query_result(mysql) != 0 || (result = mysql_use_result(mysql)) == NULL) {
        failed = 1;
    } else if ((columns = (int)mysql_num_fields(result)) != width) {
        failed = 2;
    } else {
        MYSQL_ROW row;
        while ((row = mysql_fetch_row(result)) != NULL) {
            unsigned long *lengths = mysql_fetch_lengths(result);
            if (reserve(&b, 3)) { nomem = 1; break; }
            if (rows)
                put(&b, ",\n", 2);
            put(&b, "(", 1);
            for (int i = 0; i < columns && !nomem; i++) {
                if (i) {
                    if (reserve(&b, 1)) { nomem = 1; break; }
                    put(&b, ",", 1);
                }
                nomem = render(&b, kinds[i], row[i], lengths[i]) != 0;
            }
            if (nomem || reserve(&b, 1)) { nomem = 1; break; }
            put(&b, ")", 1);
            buffer *key = rows ? &last : &first;
            key->used = 0;
            if (columns && row[0] != NULL) {
                if (reserve(key, lengths[0])) { nomem = 1; break; }
                put(key, row[0], lengths[0]);
            }
            rows++;
        }
        if (!nomem && mysql_errno(mysql) != 0)
            failed = 1;  /* the connection broke while the rows arrived */
    }
    if (result != NULL)
        mysql_free_result(result);  /* reads any rows left (after running out of memory) */
    Py_END_ALLOW_THREADS

    PyObject *out = NULL;
    if (nomem) {
        PyErr_NoMemory();
    } else if (failed == 1) {
        raise_from(mysql, error);
    } else if (failed == 2) {
        PyErr_Format(PyExc_ValueError, "%d columns in the result, %zd kinds given", columns, width);
    } else {
        buffer *tail = rows > 1 ? &last : &first;
        out = Py_BuildValue("(Ly#y#y#)", rows, b.data ? b.data : "", (Py_ssize_t)b.used,
                            first.data ? first.data : "", (Py_ssize_t)first.used,
                            tail->data ? tail->data : "", (Py_ssize_t)tail->used);
    }
    free(b.data);
    free(first.data);
    free(last.data);
    return out;
}

static PyMethodDef methods[] = {
    {"fetch", fetch, METH_VARARGS,
     "fetch(capsule, kinds, error) -> (rows, text, first, last): the rows of the query sent last, "
     "rendered as INSERT values."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "dbmedic._rows", NULL, -1, methods};

PyMODINIT_FUNC PyInit__rows(void) {
    init_tables();
    return PyModule_Create(&module);
}
