/* The one JSON string writer (fk_json_string_format, core/json.h): escapes,
 * valid UTF-8 kept, every maximal ill-formed subsequence replaced by one
 * U+FFFD; and every JSON writer of the library (flow and session lines, the
 * collector's fast path, rank snapshots, IPFIX records) uses it, so names
 * with bytes such as 0xFF 0xFE still give valid UTF-8 JSON. */
#include <flowkit/flowkit.h>
#include <stdbool.h>
#include <string.h>

#include "collector/fastfmt.h"
#include "fk_test.h"

#define FFFD "\xef\xbf\xbd"

/* Strict UTF-8 (RFC 3629), written independently of the library's scanner. */
static bool valid_utf8(const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        unsigned cp, len;
        if (p[0] < 0x80) {
            p++;
            continue;
        } else if ((p[0] & 0xe0) == 0xc0) {
            cp = p[0] & 0x1fu, len = 2;
        } else if ((p[0] & 0xf0) == 0xe0) {
            cp = p[0] & 0x0fu, len = 3;
        } else if ((p[0] & 0xf8) == 0xf0) {
            cp = p[0] & 0x07u, len = 4;
        } else {
            return false;
        }
        for (unsigned i = 1; i < len; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i] & 0x3fu);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        p += len;
    }
    return true;
}

static void expect(const char *in, size_t len, const char *want)
{
    char buf[256];
    int n = fk_json_string_format(in, len, buf, sizeof buf);
    assert_true(n > 0);
    assert_string_equal(buf, want);
    assert_int_equal((size_t)n, strlen(want));
    assert_true(valid_utf8(buf));
}

#define EXPECT(in, want) expect(in, sizeof in - 1, want)

static void escapes_and_valid_utf8(void **state)
{
    (void)state;
    EXPECT("", "\"\"");
    EXPECT("curl", "\"curl\"");
    EXPECT("a\"b\\c", "\"a\\\"b\\\\c\"");
    EXPECT("\x01\t\n\x1f\x7f", "\"\\u0001\\u0009\\u000a\\u001f\\u007f\"");
    EXPECT("a\0b", "\"a\\u0000b\""); /* the length counts, not a NUL */
    /* 2-, 3- and 4-byte characters, and the extremes of each form */
    EXPECT("caf\xc3\xa9", "\"caf\xc3\xa9\"");
    EXPECT("\xc2\x80\xdf\xbf", "\"\xc2\x80\xdf\xbf\"");
    EXPECT("\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf",
           "\"\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\"");
    EXPECT("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", "\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"");
}

static void invalid_sequences_become_fffd(void **state)
{
    (void)state;
    /* the bytes: two bytes that never occur in UTF-8 */
    EXPECT("/tmp/x\xff\xfe", "\"/tmp/x" FFFD FFFD "\"");
    /* a lone continuation byte, and C0/C1 (only overlong forms) */
    EXPECT("\x80", "\"" FFFD "\"");
    EXPECT("\xc0\xaf", "\"" FFFD FFFD "\"");
    /* overlong 3- and 4-byte forms: the lead byte alone is the subpart */
    EXPECT("\xe0\x80\xaf", "\"" FFFD FFFD FFFD "\"");
    EXPECT("\xf0\x80\x80\xaf", "\"" FFFD FFFD FFFD FFFD "\"");
    /* surrogates (ED A0..BF) and code points above U+10FFFF */
    EXPECT("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"");
    EXPECT("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
    EXPECT("\xf5\x80", "\"" FFFD FFFD "\"");
    /* a sequence cut short is one U+FFFD (its maximal subpart), and the
     * byte that cut it is read again on its own */
    EXPECT("\xe2\x82", "\"" FFFD "\"");
    EXPECT("\xe2\x82"
           "A",
           "\"" FFFD "A\"");
    EXPECT("\xf0\x9f\x98"
           "\"",
           "\"" FFFD "\\\"\"");
    EXPECT("ok\xe2\x82\xac\xe2\x82", "\"ok\xe2\x82\xac" FFFD "\"");
}

static void bounds_and_errors(void **state)
{
    (void)state;
    char buf[16];
    /* "\u0001" x2 + quotes = 14 bytes + NUL: fits exactly in 15 */
    assert_int_equal(fk_json_string_format("\x01\x01", 2, buf, 15), 14);
    assert_int_equal(fk_json_string_format("\x01\x01", 2, buf, 14), FK_ENOSPACE);
    assert_int_equal(fk_error_last()->code, FK_ENOSPACE);
    /* the documented worst case always suffices */
    char big[6 * 64 + 3];
    char in[64];
    memset(in, 0x1f, sizeof in);
    assert_int_equal(fk_json_string_format(in, sizeof in, big, sizeof big), 6 * 64 + 2);
    memset(in, 0xff, sizeof in);
    assert_int_equal(fk_json_string_format(in, sizeof in, big, sizeof big), 3 * 64 + 2);
    assert_true(valid_utf8(big));
    assert_int_equal(fk_json_string_format(NULL, 0, buf, sizeof buf), FK_EINVAL);
    assert_int_equal(fk_json_string_format("x", 1, NULL, 0), FK_EINVAL);
}

/* Every JSON writer of the library: flow and session lines, the collector's
 * fast path, a rank snapshot. */
static void every_writer_gives_valid_utf8(void **state)
{
    (void)state;
    const char *bad_exe = "/tmp/flowkit-\xff\xfe/prog";
    const char *want_exe = "\"exe\":\"/tmp/flowkit-" FFFD FFFD "/prog\"";

    fk_flow f;
    memset(&f, 0, sizeof f);
    f.present = FK_FLOW_HAS_PROCESS;
    f.proto = 6;
    f.pid = 42;
    memcpy(f.process, "n\xc3\xa4m\xe2\x82", 7); /* cut inside a character */
    f.exe = bad_exe;
    f.user = "\xfe";
    f.in_if_name = "eth\x80";
    char buf[FK_FLOW_JSON_MAX];
    assert_true(fk_flow_to_json(&f, buf, sizeof buf) > 0);
    assert_true(valid_utf8(buf));
    assert_non_null(strstr(buf, "\"process\":\"n\xc3\xa4m" FFFD "\""));
    assert_non_null(strstr(buf, want_exe));
    assert_non_null(strstr(buf, "\"user\":\"" FFFD "\""));
    assert_non_null(strstr(buf, "\"in_if_name\":\"eth" FFFD "\""));

    /* the collector's printf-free writer writes the same bytes */
    fk__fastfmt c;
    memset(&c, 0, sizeof c);
    char fast[FK_FLOW_JSON_MAX];
    int n = fk__fastfmt_json(&c, &f, fast, sizeof fast);
    assert_true(n > 0);
    assert_string_equal(fast, buf);

    fk_session_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = FK_SESSION_SYN;
    ev.proto = 6;
    ev.present = FK_SESSION_HAS_PROCESS;
    memcpy(ev.process, "\xff\xfe", 2);
    ev.exe = bad_exe;
    char eb[FK_SESSION_JSON_MAX];
    assert_true(fk_session_event_to_json(&ev, eb, sizeof eb) > 0);
    assert_true(valid_utf8(eb));
    assert_non_null(strstr(eb, "\"process\":\"" FFFD FFFD "\""));
    assert_non_null(strstr(eb, want_exe));

    fk_rank_row r;
    memset(&r, 0, sizeof r);
    r.pid = 7;
    r.uid = 0;
    r.name = "\xff\xfe";
    r.user = "root";
    r.exe = bad_exe;
    r.cmdline = "prog \xc3";
    r.dev = "";
    fk_rank_snapshot s;
    memset(&s, 0, sizeof s);
    s.count = 1;
    s.rows = &r;
    char rb[FK_RANK_JSON_HEAD_MAX + FK_RANK_JSON_ROW_MAX];
    assert_true(fk_rank_snapshot_to_json(&s, rb, sizeof rb) > 0);
    assert_true(valid_utf8(rb));
    assert_non_null(strstr(rb, "\"name\":\"" FFFD FFFD "\""));
    assert_non_null(strstr(rb, want_exe));
    assert_non_null(strstr(rb, "\"cmdline\":\"prog " FFFD "\""));
}

/* An IPFIX string element from an exporter, rendered by the record writer. */
static void ipfix_string_from_an_exporter(void **state)
{
    (void)state;
    fk_ie_registry *reg;
    assert_int_equal(fk_ie_registry_create(&reg), 0);
    const fk_field_spec f[] = {{0, 82, FK_VARLEN, 0}}; /* string interfaceName */
    fk_ipfix_encoder *e;
    assert_int_equal(fk_ipfix_encoder_create(&e, reg), 0);
    assert_int_equal(fk_ipfix_encoder_add_template(e, 300, f, 1, 0), 0);
    uint8_t buf[512];
    assert_int_equal(fk_ipfix_encoder_begin(e, 1, 1000, buf, sizeof buf), 0);
    assert_int_equal(fk_ipfix_encoder_write_template(e, 300), 0);
    assert_int_equal(fk_ipfix_encoder_record_begin(e, 300), 0);
    assert_int_equal(fk_ipfix_encoder_put_bytes(e, 0, 82,
                                                "\xff\xfe"
                                                "eth\"0",
                                                7),
                     0);
    assert_int_equal(fk_ipfix_encoder_record_end(e), 0);
    size_t len;
    assert_int_equal(fk_ipfix_encoder_finish(e, &len), 0);

    fk_template_cache *c;
    assert_int_equal(fk_template_cache_create(&c, reg), 0);
    fk_ipfix_decoder *d;
    assert_int_equal(fk_ipfix_decoder_create(&d, c), 0);
    assert_int_equal(fk_ipfix_decoder_begin(d, 1, buf, len, NULL), 0);
    fk_ipfix_item it;
    assert_int_equal(fk_ipfix_decoder_next(d, &it), 1);
    assert_int_equal(fk_ipfix_decoder_next(d, &it), 1);
    assert_int_equal(it.kind, FK_IPFIX_ITEM_RECORD);
    char json[512];
    assert_true(fk_ipfix_record_to_json(&it.record, json, sizeof json) > 0);
    assert_true(valid_utf8(json));
    assert_non_null(strstr(json, "\"interfaceName\":\"" FFFD FFFD "eth\\\"0\""));
    fk_ipfix_decoder_destroy(d);
    fk_template_cache_destroy(c);
    fk_ipfix_encoder_destroy(e);
    fk_ie_registry_destroy(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escapes_and_valid_utf8),
        cmocka_unit_test(invalid_sequences_become_fffd),
        cmocka_unit_test(bounds_and_errors),
        cmocka_unit_test(every_writer_gives_valid_utf8),
        cmocka_unit_test(ipfix_string_from_an_exporter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
