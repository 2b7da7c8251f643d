/* The console's pieces for the signed /senders API: SHA-256 (FIPS 180-4
 * examples), HMAC-SHA256 (RFC 4231 test cases 1, 2, 6 and 7: a key longer
 * than the block), the signature check, and the strict body parser. */
#include <stdio.h>
#include <string.h>

#include "fk_test.h"
#include "hmac.h"
#include "senders_body.h"

static void hex(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static void sha256_vectors(void **state)
{
    (void)state;
    uint8_t d[FKC_SHA256_LEN];
    char h[65];
    fkc_sha256("abc", 3, d);
    hex(d, sizeof d, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    fkc_sha256("", 0, d);
    hex(d, sizeof d, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    fkc_sha256(two_blocks, strlen(two_blocks), d);
    hex(d, sizeof d, h);
    assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void hmac_vectors(void **state)
{
    (void)state;
    uint8_t d[FKC_SHA256_LEN];
    char h[65];
    uint8_t key1[20];
    memset(key1, 0x0b, sizeof key1);
    fkc_hmac_sha256(key1, sizeof key1, "Hi There", 8, d);
    hex(d, sizeof d, h);
    assert_string_equal(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    fkc_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, d);
    hex(d, sizeof d, h);
    assert_string_equal(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    uint8_t key6[131];
    memset(key6, 0xaa, sizeof key6);
    static const char msg6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
    fkc_hmac_sha256(key6, sizeof key6, msg6, strlen(msg6), d);
    hex(d, sizeof d, h);
    assert_string_equal(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    static const char msg7[] =
        "This is a test using a larger than block-size key and a larger than block-size data. "
        "The key needs to be hashed before being used by the HMAC algorithm.";
    fkc_hmac_sha256(key6, sizeof key6, msg7, strlen(msg7), d);
    hex(d, sizeof d, h);
    assert_string_equal(h, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
    /* The check: either case, exact length, any difference refused. */
    assert_true(
        fkc_hmac_sha256_check("Jefe", 4, "what do ya want for nothing?", 28,
                              "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"));
    assert_false(
        fkc_hmac_sha256_check("Jefe", 4, "what do ya want for nothing?", 28,
                              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3844"));
    assert_false(
        fkc_hmac_sha256_check("Jefe", 4, "what do ya want for nothing?", 28,
                              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec384"));
    assert_false(
        fkc_hmac_sha256_check("Jefe", 4, "what do ya want for nothing?", 28,
                              "zbdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
    assert_false(fkc_hmac_sha256_check("Jefe", 4, "x", 1, NULL));
}

#define FIVE_PREFIXES                                                                              \
    ("{\"prefixes\":[{\"prefix\":\"1\",\"prefixLen\":1},{\"prefix\":\"1\",\"prefixLen\":1},"       \
     "{\"prefix\":\"1\",\"prefixLen\":1},{\"prefix\":\"1\",\"prefixLen\":1},"                      \
     "{\"prefix\":\"1\",\"prefixLen\":1}]}")
#define LONG_ADDRESS                                                                               \
    ("{\"prefixes\":[{\"prefix\":\"1111111111111111111111111111111111111111111111111111\","        \
     "\"prefixLen\":1}]}")

static void body_parser(void **state)
{
    (void)state;
    char p[4][FKC_PREFIX_TEXT_MAX];
    char err[128];
    size_t n = 99;
    static const char ok[] = " {\"prefixes\" : [ {\"prefix\":\"198.51.100.0\",\"prefixLen\":24} ,"
                             "{\"prefixLen\":32,\"prefix\":\"2001:db8::\"}]} \n";
    assert_int_equal(fkc_senders_body_parse(ok, strlen(ok), p, 4, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(p[0], "198.51.100.0/24");
    assert_string_equal(p[1], "2001:db8::/32");
    assert_int_equal(fkc_senders_body_parse("", 0, p, 4, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(fkc_senders_body_parse("{}", 2, p, 4, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    static const char *bad[] = {
        "{\"prefixes\":[{\"prefix\":\"10.0.0.0\"}]}",
        "{\"prefixes\":[{\"prefix\":\"10.0.0.0\",\"prefixLen\":129}]}",
        "{\"prefixes\":[{\"prefix\":\"10.0.0.0\",\"prefixLen\":8,\"extra\":1}]}",
        "{\"prefixes\":[{\"prefix\":\"10.0.0.0\",\"prefixLen\":8}]",
        "{\"prefixes\":[{\"prefix\":\"10.0.\\u0030.0\",\"prefixLen\":8}]}",
        "{\"other\":[]}",
        "{\"prefixes\":[]} trailing",
        "[\"prefixes\"]",
        /* five prefixes, one more than the room given */
        FIVE_PREFIXES,
        /* an address longer than any */
        LONG_ADDRESS,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(fkc_senders_body_parse(bad[i], strlen(bad[i]), p, 4, &n, err, sizeof err),
                         -1);
        assert_non_null(strstr(err, "at byte"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha256_vectors),
        cmocka_unit_test(hmac_vectors),
        cmocka_unit_test(body_parser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
