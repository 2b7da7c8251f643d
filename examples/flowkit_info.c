/* flowkit_info: the smallest complete flowkit program.
 *
 * Prints the library version (headers vs. running library), renders one
 * flow record as the JSON line the CLIs emit, and shows how errors are
 * reported: a negative status plus fk_error_last() for the details.
 *
 * Build:  cc flowkit_info.c $(pkg-config --cflags --libs flowkit)
 */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    printf("flowkit headers %s, library %s\n", FK_VERSION_STRING, fk_version_string());
    if (fk_version_number() < FK_VERSION_NUMBER) {
        fprintf(stderr, "running library is older than the headers\n");
        return 1;
    }

    fk_flow flow;
    memset(&flow, 0, sizeof flow);
    if (fk_addr_parse("10.213.0.1", &flow.src) != 0 || fk_addr_parse("10.213.0.2", &flow.dst) != 0)
        return 1;
    flow.src_port = 40000;
    flow.dst_port = 443;
    flow.proto = 6;
    flow.bytes = 5200;
    flow.packets = 12;
    flow.start_ns = 1795435200000000000LL;
    flow.end_ns = flow.start_ns + 250000000;

    char line[FK_FLOW_JSON_MAX];
    if (fk_flow_to_json(&flow, line, sizeof line) < 0) {
        fprintf(stderr, "fk_flow_to_json: %s\n", fk_error_last()->message);
        return 1;
    }
    puts(line);

    /* A deliberate failure, to show the error model. */
    fk_addr bad;
    int rc = fk_addr_parse("not-an-address", &bad);
    printf("fk_addr_parse(\"not-an-address\") = %d (%s): %s\n", rc, fk_status_name(rc),
           fk_error_last()->message);
    return rc == FK_EINVAL ? 0 : 1;
}
