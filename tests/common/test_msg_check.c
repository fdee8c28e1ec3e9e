/* test_msg_check.c - the validation helpers of jm/msg.h and the Error
 * they produce: the first error wins, field paths, UTF-8, texts, ids,
 * digits, counts and ranges, enums, dates, request ids, text shown as
 * it is, profile ids, Danish places. (The hostile
 * frames against jm_msg_unpack are in test_msg.c.) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/dk.h"
#include "jm/mem.h"
#include "jm/msg.h"
#include "jm_test.h"
#include "jobmatch/v1/envelope.pb-c.h"
#include "jobmatch/v1/intake.pb-c.h"

static void
test_error_first_wins(void **state)
{
    jm_error err = {0};
    Jobmatch__V1__Error wire;

    (void) state;
    assert_false(jm_error_set(&err, JM_E_INVALID_FIELD, "order.title",
                              "is %d bytes", 300));
    assert_false(jm_error_set(&err, JM_E_NOT_FOUND, "order.id", "later"));
    assert_int_equal(err.code, JM_E_INVALID_FIELD);
    assert_string_equal(err.field_path, "order.title");
    assert_string_equal(err.message, "is 300 bytes");
    assert_false(err.retryable);

    jm_error_to_wire(&err, &wire);
    assert_int_equal(wire.code, JM_E_INVALID_FIELD);
    assert_string_equal(wire.field_path, "order.title");
    assert_string_equal(wire.message, "is 300 bytes");
    assert_false(wire.retryable);

    memset(&err, 0, sizeof(err));
    jm_error_set(&err, JM_E_UNAVAILABLE, NULL, "store busy");
    assert_true(err.retryable);
    assert_string_equal(err.field_path, "");

    /* helpers share the rule: the first failure is kept */
    memset(&err, 0, sizeof(err));
    assert_false(jm_check_id(&err, "order.id", "a b", true));
    assert_false(jm_check_digits(&err, "order.cvr", "1", 8, true));
    assert_string_equal(err.field_path, "order.id");

    assert_string_equal(jm_error_code_name(JM_E_INVALID_FIELD),
                        "invalid_field");
    assert_string_equal(jm_error_code_name(JM_E_NOT_FOUND), "not_found");
    assert_string_equal(jm_error_code_name(JM_E_TOO_LARGE), "too_large");
    assert_string_equal(jm_error_code_name(JM_E_UNSUPPORTED),
                        "unsupported_type");
    assert_string_equal(jm_error_code_name(12345), "unknown");
}

static void
test_path(void **state)
{
    char buf[64];
    char small[8];

    (void) state;
    assert_string_equal(jm_path(buf, sizeof(buf), "order.%s[%d].skill_uri",
                                "essential_skills", 2),
                        "order.essential_skills[2].skill_uri");
    /* cut, never overrun */
    assert_string_equal(jm_path(small, sizeof(small), "%s", "order.title.x"),
                        "order.t");
}

static void
test_utf8(void **state)
{
    (void) state;
    assert_true(jm_utf8_valid("", 0));
    assert_true(jm_utf8_valid("plain ascii", 11));
    assert_true(jm_utf8_valid("\0", 1)); /* NUL is UTF-8; unpack bans it */
    assert_true(jm_utf8_valid("\xc3\xa6\xc3\xb8\xc3\xa5", 6)); /* æøå */
    assert_true(jm_utf8_valid("\xe2\x82\xac", 3));             /* € */
    assert_true(jm_utf8_valid("\xf0\x9f\x98\x80", 4));         /* emoji */
    assert_true(jm_utf8_valid("\xf4\x8f\xbf\xbf", 4));         /* U+10FFFF */
    assert_true(jm_utf8_valid("\xed\x9f\xbf", 3));             /* U+D7FF */
    assert_true(jm_utf8_valid("\xee\x80\x80", 3));             /* U+E000 */

    /* overlong forms */
    assert_false(jm_utf8_valid("\xc0\xaf", 2));
    assert_false(jm_utf8_valid("\xc1\xbf", 2));
    assert_false(jm_utf8_valid("\xe0\x80\xaf", 3));
    assert_false(jm_utf8_valid("\xe0\x9f\xbf", 3));
    assert_false(jm_utf8_valid("\xf0\x80\x80\xaf", 4));
    assert_false(jm_utf8_valid("\xf0\x8f\xbf\xbf", 4));
    /* surrogates */
    assert_false(jm_utf8_valid("\xed\xa0\x80", 3));
    assert_false(jm_utf8_valid("\xed\xbf\xbf", 3));
    /* above U+10FFFF */
    assert_false(jm_utf8_valid("\xf4\x90\x80\x80", 4));
    assert_false(jm_utf8_valid("\xf5\x80\x80\x80", 4));
    assert_false(jm_utf8_valid("\xff", 1));
    /* truncated, or a continuation byte missing */
    assert_false(jm_utf8_valid("\xe2\x82", 2));
    assert_false(jm_utf8_valid("\xf0\x9f\x98", 3));
    assert_false(jm_utf8_valid("\xc3", 1));
    assert_false(jm_utf8_valid("\xe2\x28\xa1", 3));
    assert_false(jm_utf8_valid("\xf0\x9f\x28\x80", 4));
    /* a stray continuation byte */
    assert_false(jm_utf8_valid("a\x80", 2));
    /* len is honoured: the bad byte past it is not read */
    assert_true(jm_utf8_valid("ok\xff", 2));

    /* Long text goes eight ASCII bytes at a time: a bad byte, or a good
     * sequence, at every offset around those words is still seen. */
    for (size_t at = 0; at < 40; at++) {
        char text[48];

        memset(text, 'a', sizeof(text));
        text[at] = (char) 0xff;
        assert_false(jm_utf8_valid(text, sizeof(text)));
        assert_true(jm_utf8_valid(text, at)); /* up to it: fine */
        memcpy(text + at, "\xc3\xa6", 2);     /* æ */
        assert_true(jm_utf8_valid(text, sizeof(text)));
        text[at + 1] = 'a'; /* its continuation byte missing */
        assert_false(jm_utf8_valid(text, sizeof(text)));
        memcpy(text + at, "\xed\xa0\x80", 3); /* a surrogate */
        assert_false(jm_utf8_valid(text, sizeof(text)));
    }
}

static void
test_check_text(void **state)
{
    jm_error err = {0};

    (void) state;
    assert_true(
        jm_check_text(&err, "t", "Lagermedarbejder på Fyn", 100, true, false));
    assert_true(jm_check_text(&err, "t", "", 100, false, false));
    assert_true(jm_check_text(&err, "t", NULL, 100, false, false));
    assert_true(jm_check_text(&err, "t", "12345", 5, true, false));
    assert_true(jm_check_text(&err, "t",
                              "a\xc2\xa0"
                              "b",
                              10, true, false));
    assert_true(jm_check_text(&err, "t", "one\n\ttwo", 100, true, true));
    assert_int_equal(err.code, 0);

    static const char *single_line_bad[] = {
        "one\ntwo", "tab\there",   "cr\rhere",    "del\x7f",
        "bell\x07", "nel\xc2\x85", "esc\x1b[31m",
    };
    for (size_t i = 0; i < JM_COUNTOF(single_line_bad); i++) {
        memset(&err, 0, sizeof(err));
        assert_false(jm_check_text(&err, "order.title", single_line_bad[i], 100,
                                   true, false));
        assert_int_equal(err.code, JM_E_INVALID_FIELD);
        assert_string_equal(err.field_path, "order.title");
    }
    /* multiline allows \n and \t, nothing else */
    for (size_t i = 2; i < JM_COUNTOF(single_line_bad); i++) {
        memset(&err, 0, sizeof(err));
        assert_false(
            jm_check_text(&err, "d", single_line_bad[i], 100, true, true));
    }
    memset(&err, 0, sizeof(err));
    assert_false(jm_check_text(&err, "t", "", 100, true, false));
    memset(&err, 0, sizeof(err));
    assert_false(jm_check_text(&err, "t", "123456", 5, true, false));
    memset(&err, 0, sizeof(err));
    assert_false(jm_check_text(&err, "t", "bad\xff", 100, true, false));
}

/* The rule jm_check_text applies, written the plain way: valid UTF-8,
 * then no C0 control, DEL or C1 control (C2 80 - C2 9F), "\n" and "\t"
 * allowed in multiline text. */
static bool
text_ok_reference(const char *s, size_t len, bool multiline)
{
    if (!jm_utf8_valid(s, len))
        return false;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t) s[i];

        if (c == 0xc2 && i + 1 < len && (uint8_t) s[i + 1] <= 0x9f)
            return false;
        if ((c < 0x20 || c == 0x7f) && !(multiline && (c == '\n' || c == '\t')))
            return false;
    }
    return true;
}

/* The text check reads printable ASCII eight bytes at a time: every byte
 * value, and every two-byte sequence led by C2 or C3, at every offset
 * around those words, is judged as the plain rule judges it, in single-
 * and multiline text. */
static void
test_check_text_every_byte_at_every_offset(void **state)
{
    (void) state;
    for (size_t at = 0; at < 26; at++) {
        for (unsigned b = 1; b < 256; b++) {
            for (int multiline = 0; multiline < 2; multiline++) {
                char text[33];
                jm_error err = {0};
                bool ok;

                memset(text, 'a', sizeof(text) - 1);
                text[sizeof(text) - 1] = '\0';
                text[at] = (char) b;
                ok = jm_check_text(&err, "t", text, 100, true, multiline);
                if (ok != text_ok_reference(text, strlen(text), multiline))
                    fail_msg("byte %02x at %zu (multiline %d): %s", b, at,
                             multiline, ok ? "accepted" : err.message);
                for (unsigned lead = 0xc2; lead <= 0xc3; lead++) {
                    memset(&err, 0, sizeof(err));
                    text[at] = (char) lead;
                    text[at + 1] = (char) b;
                    ok = jm_check_text(&err, "t", text, 100, true, multiline);
                    if (ok != text_ok_reference(text, strlen(text), multiline))
                        fail_msg("%02x %02x at %zu (multiline %d): %s", lead, b,
                                 at, multiline, ok ? "accepted" : err.message);
                    text[at + 1] = 'a';
                }
            }
        }
    }
}

/* Text shown as it is: what jm_check_text refuses, characters that move
 * the text around them, line separators in a single line, blank values.
 * The messages name the code point and where it stands, in characters. */
static void
test_check_display_text(void **state)
{
    jm_error err = {0};

    (void) state;
    static const char *const fine[] = {
        "Lagermedarbejder",
        " Lagermedarbejder ",
        "Lager\xc2\xa0medarbejder",               /* no-break space inside */
        "\xe2\x80\x94 \xe2\x80\xa6 \xe2\x82\xac", /* em dash, ellipsis, euro */
        "\xd8\xb9\xd8\xa7\xd9\x85\xd9\x84\xe2\x80\x8f", /* Arabic, RLM */
        "x\xe2\x80\x8b", /* zero-width space beside text */
    };
    for (size_t i = 0; i < JM_COUNTOF(fine); i++) {
        if (!jm_check_display_text(&err, "t", fine[i], 100, true, false))
            fail_msg("'%s': %s", fine[i], err.message);
    }
    assert_true(jm_check_display_text(&err, "t", "", 100, false, false));
    assert_true(jm_check_display_text(&err, "t", NULL, 100, false, true));
    assert_true(jm_check_display_text(&err, "d",
                                      "a\n\tb\xe2\x80\xa8"
                                      "c",
                                      100, true, true));

    /* jm_check_text's rules come first, with the code point named. */
    assert_false(jm_check_display_text(&err, "t", "", 100, true, false));
    assert_string_equal(err.message, "is required");
    memset(&err, 0, sizeof(err));
    assert_false(
        jm_check_display_text(&err, "t", "ab\xc2\x9b", 100, true, false));
    assert_non_null(strstr(err.message, "U+009B"));
    memset(&err, 0, sizeof(err));
    assert_false(jm_check_display_text(&err, "t", "\x1b[2J", 100, true, true));
    assert_non_null(strstr(err.message, "U+001B"));

    memset(&err, 0, sizeof(err));
    assert_false(jm_check_display_text(
        &err, "order.title", "\xc3\xa6\xc3\xb8\xc3\xa5\xe2\x80\xaegnp.exe", 100,
        true, false));
    assert_string_equal(err.field_path, "order.title");
    assert_string_equal(err.message,
                        "holds U+202E (right-to-left override) at character 4: "
                        "it reorders the text around it on screen");
    memset(&err, 0, sizeof(err));
    assert_false(
        jm_check_display_text(&err, "t", "a\xe2\x80\xa9", 100, true, false));
    assert_non_null(strstr(err.message, "U+2029"));
    assert_non_null(strstr(err.message, "character 2"));

    static const char *const blank[] = {
        " ",
        "   \t",
        "\xc2\xa0",
        "\xe3\x80\x80",
        "\xe1\x9a\x80\xe2\x80\x80\xe2\x80\x8a\xe2\x80\xaf\xe2\x81\x9f",
        "\xe2\x80\x8b\xe2\x80\x8c\xe2\x80\x8d\xe2\x81\xa0\xef\xbb\xbf",
        "\n \n",
    };
    for (size_t i = 0; i < JM_COUNTOF(blank); i++) {
        memset(&err, 0, sizeof(err));
        if (jm_check_display_text(&err, "t", blank[i], 100, false, true))
            fail_msg("blank text %zu passed", i);
        assert_non_null(strstr(err.message, "is blank"));
    }
}

/* Every character U+2000-U+206F, alone and between letters, single-line
 * and multiline: refused exactly when it is a bidirectional embedding,
 * override or isolate, or (single-line) a line or paragraph separator;
 * blank alone exactly when it is white space or zero-width. */
static void
test_check_display_text_general_punctuation(void **state)
{
    (void) state;
    for (unsigned cp = 0x2000; cp <= 0x206f; cp++) {
        bool direction =
            (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
        bool separator = cp == 0x2028 || cp == 0x2029;
        bool blank = cp <= 0x200d || separator || cp == 0x202f ||
                     cp == 0x205f || cp == 0x2060;
        char c[4] = {(char) 0xe2, (char) (0x80 | (cp >> 6 & 0x3f)),
                     (char) (0x80 | (cp & 0x3f)), '\0'};
        char between[8];

        snprintf(between, sizeof(between), "a%sb", c);
        for (int multiline = 0; multiline < 2; multiline++) {
            bool refused = direction || (separator && !multiline);
            jm_error err = {0};

            if (jm_check_display_text(&err, "t", between, 100, true,
                                      multiline) == refused)
                fail_msg("U+%04X between letters (multiline %d): %s", cp,
                         multiline, refused ? "accepted" : err.message);
            memset(&err, 0, sizeof(err));
            if (jm_check_display_text(&err, "t", c, 100, true, multiline) ==
                (refused || blank))
                fail_msg("U+%04X alone (multiline %d): %s", cp, multiline,
                         refused || blank ? "accepted" : err.message);
        }
    }
}

/* The form of profiles' pseudonymous ids, never the value in the
 * message. */
static void
test_check_profile_id(void **state)
{
    jm_error err = {0};

    (void) state;
    assert_true(jm_check_profile_id(&err, "p", "p-abcdefghijklmnopqrst", true));
    assert_true(jm_check_profile_id(&err, "p", "p-234567zzzzzzzzzzzzzz", true));
    assert_true(jm_check_profile_id(&err, "p", "", false));
    assert_true(jm_check_profile_id(&err, "p", NULL, false));
    assert_int_equal(err.code, 0);
    assert_false(jm_check_profile_id(&err, "p", "", true));
    assert_string_equal(err.message, "is required");
    static const char *const bad[] = {
        "notapid",
        "p-1",
        "p-abcdefghijklmnopqrs",
        "p-abcdefghijklmnopqrstu",
        "p-abcdefghijklmnopqrs0",
        "p-abcdefghijklmnopqrs8",
        "p-Abcdefghijklmnopqrst",
        "P-abcdefghijklmnopqrst",
        "p_abcdefghijklmnopqrst",
        "010190-1234",
    };
    for (size_t i = 0; i < JM_COUNTOF(bad); i++) {
        memset(&err, 0, sizeof(err));
        if (jm_check_profile_id(&err, "record.profile_id", bad[i], true))
            fail_msg("'%s' passed", bad[i]);
        assert_string_equal(err.field_path, "record.profile_id");
        assert_string_equal(err.message, "is not a profile id (\"p-\" and 20 "
                                         "characters a-z, 2-7)");
    }
}

/* A point north of (lat, lon) at km kilometres. */
static double
north_of(double lat, double lon, double km)
{
    double to = lat + km / 111.19;

    /* The test's own arithmetic, checked by the library's. */
    assert_true(fabs(jm_geo_distance_km(lat, lon, to, lon) - km) < 0.05);
    return to;
}

static void
expect_place_refused(const char *postcode, const char *municipality, double lat,
                     double lon, const char *field, const char *says)
{
    jm_error err = {0};

    if (jm_check_dk_place(&err, "workplace", postcode, municipality, lat, lon))
        fail_msg("%s %s (%g, %g) passed", postcode, municipality, lat, lon);
    assert_int_equal(err.code, JM_E_INVALID_FIELD);
    assert_string_equal(err.field_path, field);
    if (strstr(err.message, says) == NULL)
        fail_msg("'%s' does not say '%s'", err.message, says);
}

/* A Danish place: the postcode's municipality, and a point near the
 * postcode's position. Every postcode of the table passes with its
 * municipality, at its position or without one. */
static void
test_check_dk_place(void **state)
{
    const jm_dk_postcode *glostrup = jm_dk_postcode_find("2600");
    const jm_dk_municipality *kbh = jm_dk_municipality_find("101");
    jm_error err = {0};

    (void) state;
    for (size_t i = 0; i < jm_dk_postcode_count(); i++) {
        const jm_dk_postcode *pc = jm_dk_postcode_at(i);

        if (!jm_check_dk_place(&err, "w", pc->code, pc->municipality_code,
                               pc->latitude, pc->longitude) ||
            !jm_check_dk_place(&err, "w", pc->code, pc->municipality_code, 0,
                               0))
            fail_msg("postcode %s: %s", pc->code, err.message);
    }
    /* The bound: 49 km from the postcode's position passes, 51 km not. */
    assert_true(
        jm_check_dk_place(&err, "w", "2600", "161",
                          north_of(glostrup->latitude, glostrup->longitude, 49),
                          glostrup->longitude));
    expect_place_refused("2600", "161",
                         north_of(glostrup->latitude, glostrup->longitude, 51),
                         glostrup->longitude, "workplace.latitude", "51 km");
    /* Without a position of its own, a postcode is measured from its
     * municipality's centre. */
    assert_false(jm_dk_postcode_find("1431")->has_coordinates);
    assert_true(jm_check_dk_place(&err, "w", "1431", "101", kbh->latitude,
                                  kbh->longitude));
    expect_place_refused("1431", "101",
                         north_of(kbh->latitude, kbh->longitude, 60),
                         kbh->longitude, "workplace.latitude", "50 km");
    assert_int_equal(err.code, 0);

    /* What a user sent: Glostrup's postcode near Aalborg, in the North Sea,
     * in Copenhagen's municipality. */
    expect_place_refused("2600", "161", 57.0, 9.9, "workplace.latitude",
                         "postcode 2600 Glostrup");
    expect_place_refused("2600", "161", 54.5, 8.0, "workplace.latitude",
                         "km from");
    expect_place_refused("2600", "101", 0, 0, "workplace.municipality_code",
                         "2600 Glostrup lies in municipality 161");
    expect_place_refused("2600", "161", 48.85, 2.35, "workplace.latitude",
                         "not in Denmark");
    expect_place_refused("2600", "161", NAN, 12.4, "workplace.latitude",
                         "not in Denmark");
    expect_place_refused("0001", "161", 0, 0, "workplace.postcode",
                         "not a Danish postcode");
    expect_place_refused("26000", "161", 0, 0, "workplace.postcode",
                         "4 digits");
    expect_place_refused("2600", "", 0, 0, "workplace.municipality_code",
                         "required");
    expect_place_refused("2600", "999", 0, 0, "workplace.municipality_code",
                         "98 municipality codes");
}

/* The codes alone (a citizen's home, whose coordinates are not kept): the
 * same rules for the postcode and its municipality, under the path given,
 * and nothing about a distance. */
static void
test_check_dk_codes(void **state)
{
    jm_error err = {0};

    (void) state;
    assert_true(jm_check_dk_codes(&err, "home", "2600", "161"));
    assert_true(jm_check_dk_codes(&err, "home", "1431", "101"));
    assert_int_equal(err.code, 0);
    assert_false(jm_check_dk_codes(&err, "p.home", "2600", "101"));
    assert_string_equal(err.field_path, "p.home.municipality_code");
    assert_non_null(
        strstr(err.message, "2600 Glostrup lies in municipality 161"));
    err = (jm_error){0};
    assert_false(jm_check_dk_codes(&err, "p.home", "0001", "161"));
    assert_string_equal(err.field_path, "p.home.postcode");
    err = (jm_error){0};
    assert_false(jm_check_dk_codes(&err, "p.home", "2600", ""));
    assert_string_equal(err.field_path, "p.home.municipality_code");
}

static void
test_check_id(void **state)
{
    jm_error err = {0};
    char id[66];

    (void) state;
    assert_true(jm_check_id(&err, "id", "ord-2025.001:A_b", true));
    assert_true(jm_check_id(&err, "id", "", false));
    memset(id, 'x', 64);
    id[64] = '\0';
    assert_true(jm_check_id(&err, "id", id, true));
    assert_int_equal(err.code, 0);

    id[64] = 'x';
    id[65] = '\0';
    assert_false(jm_check_id(&err, "id", id, true));
    assert_int_equal(err.code, JM_E_INVALID_FIELD);
    static const char *bad[] = {"", "a b", "a/b", "\xc3\xa6", "a\n", "a%"};
    for (size_t i = 0; i < JM_COUNTOF(bad); i++) {
        memset(&err, 0, sizeof(err));
        assert_false(jm_check_id(&err, "id", bad[i], true));
        assert_string_equal(err.field_path, "id");
    }
}

static void
test_check_digits(void **state)
{
    jm_error err = {0};

    (void) state;
    assert_true(jm_check_digits(&err, "cvr", "12345678", 8, true));
    assert_true(jm_check_digits(&err, "p", "", 10, false));
    assert_int_equal(err.code, 0);
    static const char *bad[] = {"1234567",  "123456789",
                                "1234567a", "1234 678",
                                "",         "\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4"};
    for (size_t i = 0; i < JM_COUNTOF(bad); i++) {
        memset(&err, 0, sizeof(err));
        assert_false(jm_check_digits(&err, "cvr", bad[i], 8, true));
        assert_int_equal(err.code, JM_E_INVALID_FIELD);
    }
}

static void
test_check_count_and_range(void **state)
{
    jm_error err = {0};

    (void) state;
    assert_true(jm_check_count(&err, "skills", 1, 1, 50));
    assert_true(jm_check_count(&err, "skills", 50, 1, 50));
    assert_true(jm_check_range(&err, "hours", 1, 1, 80));
    assert_true(jm_check_range(&err, "hours", 80, 1, 80));
    assert_true(jm_check_range(&err, "x", INT64_MIN, INT64_MIN, INT64_MAX));
    assert_int_equal(err.code, 0);
    assert_false(jm_check_count(&err, "skills", 0, 1, 50));
    assert_string_equal(err.field_path, "skills");
    memset(&err, 0, sizeof(err));
    assert_false(jm_check_count(&err, "skills", 51, 1, 50));
    memset(&err, 0, sizeof(err));
    assert_false(jm_check_range(&err, "hours", 0, 1, 80));
    memset(&err, 0, sizeof(err));
    assert_false(jm_check_range(&err, "hours", 81, 1, 80));
    assert_string_equal(err.field_path, "hours");
    assert_int_equal(err.code, JM_E_INVALID_FIELD);
}

static void
test_check_enum(void **state)
{
    const ProtobufCEnumDescriptor *kind = &jobmatch__v1__job_kind__descriptor;
    jm_error err = {0};

    (void) state;
    assert_true(jm_check_enum(&err, "kind", kind, 1, false));
    assert_true(jm_check_enum(&err, "kind", kind, 7, false));
    assert_true(jm_check_enum(&err, "kind", kind, 0, true));
    assert_int_equal(err.code, 0);
    static const int bad[] = {0, 8, 99, -1};
    for (size_t i = 0; i < JM_COUNTOF(bad); i++) {
        memset(&err, 0, sizeof(err));
        assert_false(jm_check_enum(&err, "kind", kind, bad[i], false));
        assert_int_equal(err.code, JM_E_INVALID_FIELD);
    }
    memset(&err, 0, sizeof(err));
    assert_false(jm_check_enum(&err, "kind", kind, 99, true));
}

static void
test_check_date(void **state)
{
    jm_error err = {0};
    int32_t days = -7;

    (void) state;
    assert_true(jm_check_date(&err, "start", "", false, &days));
    assert_int_equal(days, -7); /* left alone */
    assert_true(jm_check_date(&err, "start", "1970-01-01", true, &days));
    assert_int_equal(days, 0);
    assert_true(jm_check_date(&err, "start", "2024-02-29", true, &days));
    assert_int_equal(days, 19782);
    assert_true(jm_check_date(&err, "start", "2199-12-31", true, NULL));
    assert_true(jm_check_date(&err, "start", "1900-01-01", true, NULL));
    assert_int_equal(err.code, 0);
    static const char *bad[] = {
        "",           "2023-02-29",  "2024-13-01", "2024-2-29", "1899-12-31",
        "2200-01-01", "2024-02-29x", "29-02-2024", "2024/02/29"};
    for (size_t i = 0; i < JM_COUNTOF(bad); i++) {
        memset(&err, 0, sizeof(err));
        assert_false(jm_check_date(&err, "deadline", bad[i], true, &days));
        assert_int_equal(err.code, JM_E_INVALID_FIELD);
        assert_string_equal(err.field_path, "deadline");
    }
    /* A real date outside the years accepted says so, with the range: it
     * is not "not a date". Anything else is not a date. */
    static const char *outside[] = {"2200-01-01", "9999-01-01", "1899-12-31",
                                    "0001-01-01"};
    for (size_t i = 0; i < JM_COUNTOF(outside); i++) {
        memset(&err, 0, sizeof(err));
        assert_false(jm_check_date(&err, "deadline", outside[i], true, NULL));
        assert_string_equal(err.field_path, "deadline");
        if (strstr(err.message, "1900-01-01 to 2199-12-31") == NULL ||
            strstr(err.message, "not a date") != NULL)
            fail_msg("%s: %s", outside[i], err.message);
    }
    static const char *not_dates[] = {"2200-02-30", "2024-13-01", "29-02-2024",
                                      "2200-01-01x", "+200-01-01"};
    for (size_t i = 0; i < JM_COUNTOF(not_dates); i++) {
        memset(&err, 0, sizeof(err));
        assert_false(jm_check_date(&err, "d", not_dates[i], true, NULL));
        if (strstr(err.message, "is not a date as YYYY-MM-DD") == NULL)
            fail_msg("%s: %s", not_dates[i], err.message);
    }
}

static void
test_check_request_id(void **state)
{
    jm_error err = {0};
    static const uint8_t request_id[16] = "0123456789abcdef";
    ProtobufCBinaryData id = {16, (uint8_t *) request_id};

    (void) state;
    assert_true(jm_check_request_id(&err, "request_id", &id));
    static const size_t bad[] = {0, 1, 15, 17, 32};
    for (size_t i = 0; i < JM_COUNTOF(bad); i++) {
        memset(&err, 0, sizeof(err));
        id.len = bad[i];
        assert_false(jm_check_request_id(&err, "request_id", &id));
        assert_int_equal(err.code, JM_E_INVALID_FIELD);
        assert_string_equal(err.field_path, "request_id");
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_first_wins),
        cmocka_unit_test(test_path),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_check_text),
        cmocka_unit_test(test_check_text_every_byte_at_every_offset),
        cmocka_unit_test(test_check_display_text),
        cmocka_unit_test(test_check_display_text_general_punctuation),
        cmocka_unit_test(test_check_profile_id),
        cmocka_unit_test(test_check_dk_place),
        cmocka_unit_test(test_check_dk_codes),
        cmocka_unit_test(test_check_id),
        cmocka_unit_test(test_check_digits),
        cmocka_unit_test(test_check_count_and_range),
        cmocka_unit_test(test_check_enum),
        cmocka_unit_test(test_check_date),
        cmocka_unit_test(test_check_request_id),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
