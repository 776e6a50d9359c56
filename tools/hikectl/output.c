/* Reading members of replies, and aligned tables for the human output. */
#include "hikectl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) {
        fprintf(stderr, "hikectl: out of memory\n");
        exit(HIKECTL_FAIL);
    }
    return p;
}

const char *out_str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

long long out_int(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

char *out_join(const json_t *o, const char *key, const char *sep)
{
    const json_t *a = json_object_get(o, key), *v;
    size_t i, len = 2;
    json_array_foreach(a, i, v)
    {
        len += strlen(json_string_value(v) ? json_string_value(v) : "") + strlen(sep);
    }
    char *buf = xrealloc(NULL, len);
    buf[0] = '\0';
    json_array_foreach(a, i, v)
    {
        if (i)
            strcat(buf, sep);
        strcat(buf, json_string_value(v) ? json_string_value(v) : "");
    }
    if (!buf[0])
        strcpy(buf, "-");
    return buf;
}

bool out_parse_id(const char *s, json_int_t *id)
{
    if (*s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno || v <= 0)
        return false;
    *id = v;
    return true;
}

char *out_age(const json_t *v, char *buf, size_t len)
{
    long long s = json_is_integer(v) ? json_integer_value(v) : -1;
    if (s < 0)
        snprintf(buf, len, "-");
    else if (s < 60)
        snprintf(buf, len, "%llds", s);
    else if (s < 3600)
        snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
    else
        snprintf(buf, len, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
    return buf;
}

/* ---- tables ---- */

#define TABLE_MAX_COLS 16

struct table_grp {
    int indent, ncols;
    const char *const *head;
    size_t width[TABLE_MAX_COLS];
    size_t nrows;
};

struct table_row {
    int g;
    char **cells;
};

struct table {
    struct table_grp grp[TABLE_GROUPS];
    struct table_row *rows;
    size_t nrows, cap;
};

struct table *table_new(void)
{
    struct table *t = xrealloc(NULL, sizeof(*t));
    memset(t, 0, sizeof(*t));
    return t;
}

void table_group(struct table *t, int g, int indent, int ncols, const char *const *head)
{
    struct table_grp *gr = &t->grp[g];
    gr->indent = indent;
    gr->ncols = ncols < TABLE_MAX_COLS ? ncols : TABLE_MAX_COLS;
    gr->head = head;
    for (int c = 0; c < gr->ncols; c++)
        gr->width[c] = strlen(head[c]);
}

void table_row(struct table *t, int g, const char *const *cells)
{
    struct table_grp *gr = &t->grp[g];
    if (t->nrows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->rows = xrealloc(t->rows, t->cap * sizeof(*t->rows));
    }
    struct table_row *r = &t->rows[t->nrows++];
    r->g = g;
    r->cells = xrealloc(NULL, (size_t)gr->ncols * sizeof(char *));
    for (int c = 0; c < gr->ncols; c++) {
        const char *s = cells[c] && *cells[c] ? cells[c] : "-";
        r->cells[c] = xrealloc(NULL, strlen(s) + 1);
        strcpy(r->cells[c], s);
        if (strlen(s) > gr->width[c])
            gr->width[c] = strlen(s);
    }
    gr->nrows++;
}

static void print_line(const struct table_grp *gr, const char *const *cells, FILE *f)
{
    fprintf(f, "%*s", gr->indent, "");
    for (int c = 0; c < gr->ncols; c++) {
        if (c == gr->ncols - 1)
            fprintf(f, "%s\n", cells[c]); /* no trailing blanks */
        else
            fprintf(f, "%-*s  ", (int)gr->width[c], cells[c]);
    }
}

void table_print(const struct table *t, FILE *f)
{
    for (int g = 0; g < TABLE_GROUPS; g++)
        if (t->grp[g].nrows)
            print_line(&t->grp[g], t->grp[g].head, f);
    for (size_t i = 0; i < t->nrows; i++)
        print_line(&t->grp[t->rows[i].g], (const char *const *)t->rows[i].cells, f);
}

void table_free(struct table *t)
{
    for (size_t i = 0; t && i < t->nrows; i++) {
        for (int c = 0; c < t->grp[t->rows[i].g].ncols; c++)
            free(t->rows[i].cells[c]);
        free(t->rows[i].cells);
    }
    if (t)
        free(t->rows);
    free(t);
}
