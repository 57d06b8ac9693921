/*
 * ini.c - splits a policy file into sections and key = value pairs.
 *
 * Why not libinih: its compiled-in 200-byte line buffer, ';' inline
 * comments and indented continuation lines would silently change a long
 * rationale or a value, and it cannot report a repeated empty section. A
 * policy parser must never guess, so this lexer knows exactly one syntax:
 *
 *   # or ; at the start of a line: a comment
 *   [name]: a section
 *   key = value: a pair; the value runs to the end of the line, and may be
 *   wrapped in double quotes to keep leading or trailing spaces
 *
 * and reports anything else as an error with its line number.
 */
#include "zg_ini.h"

#include <stdio.h>
#include <string.h>
#include <stdbool.h>

void zg_ini_init(zg_ini_t *ini, const char *text, size_t len)
{
    ini->pos = text;
    ini->end = text + len;
    ini->line = 0;
    /* A UTF-8 byte order mark is an editor's habit, not content. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        ini->pos += 3;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static char *trim(char *s)
{
    while (is_space(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_space(s[n - 1]))
        s[--n] = '\0';
    return s;
}

static bool key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.';
}

static void fail(zg_ini_item_t *item, const char *key, const char *error)
{
    item->kind = ZG_INI_ERROR;
    item->key = key;
    item->value = NULL;
    item->error = error;
}

/* Copies the next line into ini->buf; false at the end of the text. */
static bool read_line(zg_ini_t *ini, zg_ini_item_t *item)
{
    if (ini->pos >= ini->end)
        return false;
    const char *nl = memchr(ini->pos, '\n', (size_t)(ini->end - ini->pos));
    const char *stop = nl ? nl : ini->end;
    size_t n = (size_t)(stop - ini->pos);
    ini->line++;
    item->line = ini->line;
    item->kind = ZG_INI_END;
    if (n > ZG_INI_LINE_MAX) {
        /* the key is the line's start, to find it by: up to 40 bytes, cut
         * before a control character or a split UTF-8 character */
        size_t k = 0;
        while (k < 40) {
            unsigned char c = (unsigned char)ini->pos[k];
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                break;
            k++;
        }
        if (k == 40)
            while (k > 0 && ((unsigned char)ini->pos[k] & 0xC0) == 0x80)
                k--;
        memcpy(ini->buf, ini->pos, k);
        ini->buf[k] = '\0';
        char *start = trim(ini->buf);
        fail(item, *start ? start : "(start of line)",
             "line is longer than 2048 bytes");
    } else {
        memcpy(ini->buf, ini->pos, n);
        ini->buf[n] = '\0';
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)ini->buf[i];
            /* '\r' only as the end of a CRLF line ending: a lone one would
             * hide the rest of the line, or the rest of an old Mac file */
            if (c == '\r' && i == n - 1)
                continue;
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                static _Thread_local char msg[96];
                if (c == '\r')
                    snprintf(msg, sizeof msg,
                             "carriage return inside a line (old Mac line "
                             "endings?): use LF or CRLF");
                else
                    snprintf(msg, sizeof msg,
                             "control character 0x%02X in line (only text, "
                             "spaces and tabs)",
                             c);
                ini->buf[i] = '\0';
                /* the key is the text before it, so the reader finds it */
                char *before = trim(ini->buf);
                fail(item, *before ? before : "(start of line)", msg);
                break;
            }
        }
    }
    ini->pos = nl ? nl + 1 : ini->end;
    return true;
}

static void lex_section(char *s, zg_ini_item_t *item)
{
    size_t n = strlen(s);
    if (s[n - 1] != ']') {
        fail(item, s, "section header needs a closing ']'");
        return;
    }
    s[n - 1] = '\0';
    char *name = trim(s + 1);
    if (*name == '\0') {
        fail(item, "[]", "empty section name");
        return;
    }
    item->kind = ZG_INI_SECTION;
    item->key = name;
}

static void lex_pair(char *s, zg_ini_item_t *item)
{
    char *eq = strchr(s, '=');
    if (!eq) {
        fail(item, s, "expected 'key = value', '[section]' or a comment");
        return;
    }
    *eq = '\0';
    char *key = trim(s), *value = trim(eq + 1);
    if (*key == '\0') {
        fail(item, "=", "missing key before '='");
        return;
    }
    for (char *c = key; *c; c++)
        if (!key_char(*c)) {
            fail(item, key,
                 "keys are lowercase letters, digits, '_' and '.'");
            return;
        }
    size_t n = strlen(value);
    if (n > 0 && value[0] == '"') {
        if (n < 2 || value[n - 1] != '"') {
            fail(item, key, "quoted value needs a closing '\"'");
            return;
        }
        value[n - 1] = '\0';
        value++;
    }
    if (*value == '\0') {
        fail(item, key, "empty value");
        return;
    }
    item->kind = ZG_INI_PAIR;
    item->key = key;
    item->value = value;
}

void zg_ini_next(zg_ini_t *ini, zg_ini_item_t *item)
{
    while (read_line(ini, item)) {
        if (item->kind == ZG_INI_ERROR)
            return;
        char *s = trim(ini->buf);
        if (*s == '\0' || *s == '#' || *s == ';')
            continue;
        if (*s == '[')
            lex_section(s, item);
        else
            lex_pair(s, item);
        return;
    }
    item->kind = ZG_INI_END;
    item->line = ini->line;
    item->key = item->value = item->error = NULL;
}
