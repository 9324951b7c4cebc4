/* dbmedic._rows: render a MariaDB/MySQL result as the VALUES text of an INSERT, in C.
 *
 * The built-in dumper's ``mysql-keys`` scan has the server render every row as a literal
 * (CONCAT/QUOTE/HEX). This module reads plain column values instead, on the connection of
 * mysqlclient (its ``_get_native_connection()`` capsule), and writes byte for byte what the
 * server's rendering gives (tests/test_backup_rows.py compares both): the server does no string
 * work and no Python object is made per row or value (bench/RESULTS.md, backup).
 *
 * scan(capsule, kinds, error, chunk_bytes, callback) reads the result of the query sent last
 * (mysql_send_query, by mysqlclient's ``send_query``) as it arrives, with the GIL released, and
 * calls ``callback(text, rows)`` for every chunk of about ``chunk_bytes`` (the rows as
 * ``(v,v,...)`` joined by ``,\n``; a chunk ends after the row that reaches the size); it returns
 * the number of rows. An exception of the callback stops the scan (the rest of the result is
 * read and dropped) and is raised. ``kinds`` has one letter per column: ``n`` a number
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

/* Hands the rows rendered so far to ``callback(text, rows)`` with the GIL held; -1 when it
 * raised. The buffer is emptied for the next chunk. */
static int deliver(buffer *b, long long rows, PyObject *callback) {
    PyObject *text = PyBytes_FromStringAndSize(b->data, (Py_ssize_t)b->used);
    if (text == NULL)
        return -1;
    PyObject *got = PyObject_CallFunction(callback, "OL", text, rows);
    Py_DECREF(text);
    b->used = 0;
    if (got == NULL)
        return -1;
    Py_DECREF(got);
    return 0;
}

static PyObject *scan(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *capsule, *error, *callback;
    const char *kinds;
    Py_ssize_t width, chunk_bytes;
    if (!PyArg_ParseTuple(args, "Oy#OnO", &capsule, &kinds, &width, &error, &chunk_bytes,
                          &callback))
        return NULL;
    MYSQL *mysql = PyCapsule_GetPointer(capsule, "_mysql.connection.native_connection");
    if (mysql == NULL)
        return NULL;

    buffer b = {NULL, 0, 0};
    long long rows = 0, in_chunk = 0;
    int failed = 0, nomem = 0, raised = 0, columns = 0;
    MYSQL_RES *result = NULL;
    Py_BEGIN_ALLOW_THREADS
    /* unbuffered: each row is rendered from the network buffer as it arrives; the server goes on
     * sending while the callback hashes, compresses and writes the chunk before */
    if (mysql_read_query_result(mysql) != 0 || (result = mysql_use_result(mysql)) == NULL) {
        failed = 1;
    } else if ((columns = (int)mysql_num_fields(result)) != width) {
        failed = 2;
    } else {
        MYSQL_ROW row;
        while ((row = mysql_fetch_row(result)) != NULL) {
            unsigned long *lengths = mysql_fetch_lengths(result);
            if (reserve(&b, 3)) { nomem = 1; break; }
            if (in_chunk)
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
            rows++;
            in_chunk++;
            if (b.used >= (size_t)chunk_bytes) {
                Py_BLOCK_THREADS
                raised = deliver(&b, in_chunk, callback) != 0;
                Py_UNBLOCK_THREADS
                in_chunk = 0;
                if (raised)
                    break;
            }
        }
        if (!nomem && !raised && mysql_errno(mysql) != 0)
            failed = 1;  /* the connection broke while the rows arrived */
    }
    if (result != NULL)
        mysql_free_result(result);  /* reads any rows left (after an error) */
    Py_END_ALLOW_THREADS

    PyObject *out = NULL;
    if (raised) {
        /* the callback's exception stays set */
    } else if (nomem) {
        PyErr_NoMemory();
    } else if (failed == 1) {
        raise_from(mysql, error);
    } else if (failed == 2) {
        PyErr_Format(PyExc_ValueError, "%d columns in the result, %zd kinds given", columns, width);
    } else if (in_chunk == 0 || deliver(&b, in_chunk, callback) == 0) {
        out = PyLong_FromLongLong(rows);
    }
    free(b.data);
    return out;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS,
     "scan(capsule, kinds, error, chunk_bytes, callback) -> rows: the rows of the query sent "
     "last, rendered as INSERT values and handed to callback(text, rows) in chunks."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "dbmedic._rows", NULL, -1, methods};

PyMODINIT_FUNC PyInit__rows(void) {
    init_tables();
    return PyModule_Create(&module);
}
