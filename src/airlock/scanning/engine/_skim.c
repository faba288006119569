/* Optional compiled core of the pickle scanner.
 *
 * skim(buffer, start, end) walks pickle opcodes from start without building any value and
 * stops at the first opcode that can import or call something (GLOBAL, INST, STACK_GLOBAL,
 * REDUCE, BUILD, NEWOBJ, NEWOBJ_EX, OBJ, EXT1/2/4, PERSID, BINPERSID) or at a bytes payload
 * that itself starts like a pickle.  It returns
 * (offset after STOP or -1, offset of that opcode or -1, error message or None).
 * A stream with no such opcode cannot run code on load, so the Python emulator is skipped;
 * otherwise the emulator runs the stream from the start.  Nothing is ever unpickled.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static uint64_t rd(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int k = n - 1; k >= 0; k--) v = (v << 8) | p[k];
    return v;
}

static PyObject *result(Py_ssize_t stop, Py_ssize_t hit, const char *err) {
    if (err) return Py_BuildValue("nns", stop, hit, err);
    return Py_BuildValue("nnO", stop, hit, Py_None);
}

static PyObject *skim(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t start, end;
    if (!PyArg_ParseTuple(args, "y*nn", &view, &start, &end)) return NULL;
    const unsigned char *b = (const unsigned char *)view.buf;
    if (end > view.len) end = view.len;
    Py_ssize_t i = start;
    Py_ssize_t stop = -1, hit = -1, frame_end = -1;
    const char *err = NULL;
    while (i < end) {
        unsigned char op = b[i];
        Py_ssize_t j = i + 1;
        switch (op) {
        /* no argument, no import or call */
        case '(': case '0': case '1': case '2': case 'N': case 'a': case 'd': case '}':
        case 'e': case 'l': case ']': case 's': case 't': case ')': case 'u':
        case 0x85: case 0x86: case 0x87: case 0x88: case 0x89: case 0x8f: case 0x90:
        case 0x91: case 0x94: case 0x97: case 0x98:
            break;
        case '.':
            stop = j;
            goto done;
        /* can import or call */
        case 'c': case 'i': case 0x93: case 'R': case 'b': case 0x81: case 0x92: case 'o':
        case 0x82: case 0x83: case 0x84: case 'P': case 'Q':
            hit = i;
            goto done;
        case 'K': case 'h': case 'q': case 0x80: j += 1; break;
        case 'M': j += 2; break;
        case 'J': case 'j': case 'r': j += 4; break;
        case 'G': case 0x95: j += 8; break;
        case 'F': case 'I': case 'L': case 'S': case 'V': case 'g': case 'p': {
            const unsigned char *nl = memchr(b + j, '\n', (size_t)(end - j));
            if (!nl) { err = "line argument is not terminated by a newline"; goto done; }
            j = (nl - b) + 1;
            break;
        }
        case 'U': case 'C': case 0x8c: case 0x8a:
            if (j >= end) { err = "truncated length"; goto done; }
            j += 1 + b[j];
            break;
        case 'T': case 'B': case 'X': case 0x8b: {
            if (j + 4 > end) { err = "truncated length"; goto done; }
            uint64_t n = rd(b + j, 4);
            if (op == 0x8b && (n & 0x80000000u)) { err = "LONG4 with a negative length"; goto done; }
            j += 4 + (Py_ssize_t)n;
            break;
        }
        case 0x8d: case 0x8e: case 0x96: {
            if (j + 8 > end) { err = "truncated length"; goto done; }
            uint64_t n = rd(b + j, 8);
            if (n > (uint64_t)(end - j)) { err = "payload runs past the end of the data"; goto done; }
            j += 8 + (Py_ssize_t)n;
            break;
        }
        default:
            err = "unknown opcode";
            goto done;
        }
        if (j > end) { err = "opcode argument runs past the end of the data"; goto done; }
        /* An opcode crossing a frame boundary (or a frame opened inside another) is read
         * differently by different unpicklers: leave it to the emulator to report. */
        if (i < frame_end && j > frame_end) { hit = i; goto done; }
        if (op == 0x95) {
            if (i < frame_end) { hit = i; goto done; }
            frame_end = j + (Py_ssize_t)rd(b + i + 1, 8);
        }
        /* A bytes payload that starts like a pickle is a nested stream: let the emulator
         * look at it. */
        if ((op == 'C' || op == 'B' || op == 0x8e || op == 0x96)) {
            Py_ssize_t head = (op == 'C') ? 2 : (op == 'B') ? 5 : 9;
            if (i + head + 1 < j && b[i + head] == 0x80 && b[i + head + 1] <= 5) {
                hit = i;
                goto done;
            }
        }
        i = j;
    }
    if (stop < 0 && hit < 0 && !err) err = "pickle ends without STOP";
done:
    PyBuffer_Release(&view);
    return result(stop, hit, err);
}

static PyMethodDef methods[] = {
    {"skim", skim, METH_VARARGS, "Walk pickle opcodes until STOP or the first import/call opcode."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_skim", NULL, -1, methods};

PyMODINIT_FUNC PyInit__skim(void) { return PyModule_Create(&module); }
