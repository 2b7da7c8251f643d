/* The IMDS provider of flowkit-export --imds (cli/common): its HTTP
 * response parser and JSON member reader (httpresp.c), URL checks, the
 * merge rule (a --tag wins), and the provider against services that
 * misbehave: one that accepts and never answers (each request times out,
 * the failure is counted, stop returns at once) and one that refuses
 * connections. The full protocol against an IMDSv2 stand-in is
 * tests/integration/export_imds.sh. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fkhttp.h"
#include "fkimds.h"

static int parse(const char *text, bool eof, fkhttp_response *r, char *buf, size_t size)
{
    size_t n = strlen(text);
    assert_true(n < size);
    memcpy(buf, text, n + 1);
    const char *why = NULL;
    int rc = fkhttp_response_parse(buf, n, eof, r, &why);
    if (rc == FKHTTP_BAD)
        assert_non_null(why);
    return rc;
}

static void test_content_length(void **state)
{
    (void)state;
    char buf[512];
    fkhttp_response r;
    const char *t = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ncontent-length: 10\r\n\r\n"
                    "eu-west-1b";
    assert_int_equal(parse(t, false, &r, buf, sizeof buf), FKHTTP_DONE);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 10);
    assert_memory_equal(r.body, "eu-west-1b", 10);
    /* every shorter prefix asks for more, and is refused at eof */
    for (size_t cut = 0; cut < strlen(t); cut++) {
        memcpy(buf, t, strlen(t));
        const char *why;
        assert_int_equal(fkhttp_response_parse(buf, cut, false, &r, &why), FKHTTP_MORE);
        assert_int_equal(fkhttp_response_parse(buf, cut, true, &r, &why), FKHTTP_BAD);
    }
    /* bare LF line ends */
    assert_int_equal(
        parse("HTTP/1.0 404 Not Found\nContent-Length: 2\n\nno", false, &r, buf, sizeof buf),
        FKHTTP_DONE);
    assert_int_equal(r.status, 404);
    assert_int_equal(r.body_len, 2);
}

static void test_chunked_and_eof(void **state)
{
    (void)state;
    char buf[512];
    fkhttp_response r;
    assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "5;x=y\r\n{\"acc\r\n"
                           "A\r\nountId\":\"1\r\n"
                           "2\r\n\"}\r\n0\r\nX-T: 1\r\n\r\n",
                           false, &r, buf, sizeof buf),
                     FKHTTP_DONE);
    assert_int_equal(r.body_len, 17);
    assert_memory_equal(r.body, "{\"accountId\":\"1\"}", 17);
    /* the last CRLF missing: more */
    assert_int_equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n",
                           false, &r, buf, sizeof buf),
                     FKHTTP_MORE);
    /* no length: the body ends with the connection */
    assert_int_equal(parse("HTTP/1.1 200 OK\r\n\r\nabc", false, &r, buf, sizeof buf), FKHTTP_MORE);
    assert_int_equal(parse("HTTP/1.1 200 OK\r\n\r\nabc", true, &r, buf, sizeof buf), FKHTTP_DONE);
    assert_int_equal(r.body_len, 3);
    assert_int_equal(parse("HTTP/1.1 204 No Content\r\n\r\n", false, &r, buf, sizeof buf),
                     FKHTTP_DONE);
    assert_int_equal(r.body_len, 0);
}

static void test_refused(void **state)
{
    (void)state;
    char buf[512];
    fkhttp_response r;
    static const char *const bad[] = {
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 200OK\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\n",
        "HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
        "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: a\001b\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse(bad[i], false, &r, buf, sizeof buf);
        if (rc != FKHTTP_BAD)
            fail_msg("accepted: %s", bad[i]);
    }
    /* too many header lines */
    char many[8192] = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i <= FKHTTP_MAX_HEADERS; i++)
        strcat(many, "X-A: 1\r\n");
    strcat(many, "\r\n");
    assert_int_equal(parse(many, false, &r, many, sizeof many), FKHTTP_BAD);
}

static void test_json(void **state)
{
    (void)state;
    static const char doc[] =
        "{\n  \"devpayProductCodes\" : null,\n"
        "  \"marketplaceProductCodes\" : [ \"a\", {\"b\": [1, -2.5e3, true]} ],\n"
        "  \"key\\\"d\" : \"x\",\n"
        "  \"accountId\" : \"123456789012\",\n  \"region\" : \"eu-west-1\"\n}";
    char out[32];
    assert_int_equal(fkhttp_json_get_string(doc, strlen(doc), "accountId", out, sizeof out), 12);
    assert_string_equal(out, "123456789012");
    assert_int_equal(fkhttp_json_get_string(doc, strlen(doc), "region", out, sizeof out), 9);
    assert_string_equal(out, "eu-west-1");
    assert_int_equal(fkhttp_json_get_string(doc, strlen(doc), "missing", out, sizeof out), -1);
    /* too small a buffer, a number, an escape, not an object, cut short */
    assert_int_equal(fkhttp_json_get_string(doc, strlen(doc), "accountId", out, 12), -1);
    assert_int_equal(fkhttp_json_get_string("{\"accountId\":12}", 16, "accountId", out, 32), -1);
    assert_int_equal(fkhttp_json_get_string("{\"accountId\":\"1\\n\"}", 19, "accountId", out, 32),
                     -1);
    assert_int_equal(fkhttp_json_get_string("[\"accountId\"]", 13, "accountId", out, 32), -1);
    assert_int_equal(fkhttp_json_get_string("{\"a\":[1,2", 9, "accountId", out, 32), -1);
    /* a key only found nested is not the top level's */
    assert_int_equal(
        fkhttp_json_get_string("{\"x\":{\"accountId\":\"1\"}}", 23, "accountId", out, 32), -1);
}

static void test_urls_and_merge(void **state)
{
    (void)state;
    char err[200];
    assert_int_equal(fkimds_check_url("http://169.254.169.254", err, sizeof err), 0);
    assert_int_equal(fkimds_check_url("http://127.0.0.1:8080/", err, sizeof err), 0);
    assert_int_equal(fkimds_check_url("http://[fd00:ec2::254]", err, sizeof err), 0);
    assert_int_equal(fkimds_check_url("http://[::1]:81", err, sizeof err), 0);
    static const char *const bad[] = {"https://169.254.169.254",
                                      "http://imds.example",
                                      "http://1.2.3.4:0",
                                      "http://1.2.3.4:65536",
                                      "http://1.2.3.4/latest",
                                      "http://[::1",
                                      "http://:80",
                                      "169.254.169.254"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(fkimds_check_url(bad[i], err, sizeof err), -1);
        assert_true(err[0] != '\0');
    }
    fkimds_values v;
    memset(&v, 0, sizeof v);
    strcpy(v.v[FKIMDS_REGION], "eu-west-1");
    strcpy(v.v[FKIMDS_VPC], "vpc-1");
    fk_tag fixed[2] = {{"region", "mine"}, {"env", "prod"}}, out[FK_TAG_MAX];
    size_t n = fkimds_merge(fixed, 2, &v, out);
    assert_int_equal(n, 3); /* region (given), env, vpc-id; unknown values left out */
    assert_string_equal(out[0].value, "mine");
    assert_string_equal(out[2].key, "vpc-id");
    assert_string_equal(out[2].value, "vpc-1");
    assert_string_equal(fkimds_key(FKIMDS_AZ_ID), "az-id");
    assert_null(fkimds_key(FKIMDS_NVALUES));
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Wait (bounded) until the provider has counted `failures`. */
static fkimds_stats wait_failures(fkimds *m, uint64_t failures)
{
    fkimds_stats s;
    double until = now_s() + 20;
    do {
        fkimds_get_stats(m, &s);
        if (s.failures >= failures)
            break;
        usleep(20000);
    } while (now_s() < until);
    return s;
}

/* A listener that accepts (the kernel's backlog) and never answers. */
static void test_silent_service(void **state)
{
    (void)state;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(l >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(l, 16), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &len), 0);
    char url[64], err[200];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", ntohs(a.sin_port));
    fkimds *m = fkimds_start(url, 60000, 100, err, sizeof err);
    assert_non_null(m);
    fkimds_stats s = wait_failures(m, 1);
    assert_int_equal(s.failures, 1);
    assert_int_equal(s.refreshes, 0);
    assert_int_equal(s.tokens, 0);
    assert_non_null(strstr(s.last_error, "/latest/api/token: answer: timed out"));
    unsigned gen = 0;
    fkimds_values v;
    assert_false(fkimds_poll(m, &gen, &v)); /* nothing known yet */
    fkimds_stop(m);                         /* in its 60 s pause: returns at once */
    close(l);
}

/* Nobody listens: each refresh fails at connect, every refresh_ms. */
static void test_refused_service(void **state)
{
    (void)state;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &len), 0);
    char url[64], err[200];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", ntohs(a.sin_port));
    fkimds *m = fkimds_start(url, 10, 100, err, sizeof err); /* bound, not listening */
    assert_non_null(m);
    fkimds_stats s = wait_failures(m, 3);
    assert_true(s.failures >= 3);
    assert_non_null(strstr(s.last_error, "connect: Connection refused"));
    fkimds_stop(m);
    close(l);
    assert_null(fkimds_start("http://nowhere", 1000, 100, err, sizeof err));
    assert_non_null(strstr(err, "numeric"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_length),  cmocka_unit_test(test_chunked_and_eof),
        cmocka_unit_test(test_refused),         cmocka_unit_test(test_json),
        cmocka_unit_test(test_urls_and_merge),  cmocka_unit_test(test_silent_service),
        cmocka_unit_test(test_refused_service),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
