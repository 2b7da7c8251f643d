/* ipfix_decode_file: read a file of IPFIX messages (RFC 5655 layout: messages
 * back to back) and print every data record as a JSON line.
 *
 *   ipfix_decode_file [-f] FILE
 *
 *   -f   print the normalized flow (fk_flow_to_json) instead of every field
 *
 * The decoder is sans-I/O: we hand it one message at a time from our own
 * buffer. Templates are kept in its cache, so a data set may come in a later
 * message than its template. Exit status 1 on a malformed file. */
#include <flowkit/flowkit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what)
{
    const fk_error *e = fk_error_last();
    fprintf(stderr, "ipfix_decode_file: %s: %s (%s)\n", what, e->message, fk_status_name(e->code));
    return 1;
}

/* Read a whole file into memory (IPFIX files for this example are small). */
static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *data = NULL;
    size_t cap = 0, n = 0, r;
    do {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *p = realloc(data, cap);
            if (!p) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = p;
        }
        r = fread(data + n, 1, cap - n, f);
        n += r;
    } while (r > 0);
    fclose(f);
    *len = n;
    return data;
}

int main(int argc, char **argv)
{
    int as_flow = argc == 3 && strcmp(argv[1], "-f") == 0;
    if (argc != 2 + as_flow) {
        fprintf(stderr, "usage: ipfix_decode_file [-f] FILE\n");
        return 2;
    }
    size_t len;
    uint8_t *data = slurp(argv[argc - 1], &len);
    if (!data) {
        perror(argv[argc - 1]);
        return 1;
    }

    fk_ipfix_decoder *dec;
    if (fk_ipfix_decoder_create(&dec, NULL) < 0) /* NULL: a private template cache */
        return fail("create");

    static char json[65536];
    size_t off = 0, messages = 0, records = 0, templates = 0;
    int rc = 0;
    while (off < len && rc == 0) {
        fk_ipfix_header hdr;
        /* One transport session (0) for the whole file. */
        if (fk_ipfix_decoder_begin(dec, 0, data + off, len - off, &hdr) < 0) {
            rc = fail("message header");
            break;
        }
        fk_ipfix_item item;
        int r;
        while ((r = fk_ipfix_decoder_next(dec, &item)) > 0) {
            if (item.kind == FK_IPFIX_ITEM_TEMPLATE) {
                templates++;
            } else if (item.kind == FK_IPFIX_ITEM_RECORD) {
                int n;
                if (as_flow) {
                    fk_flow flow;
                    n = fk_ipfix_record_to_flow(&item.record, &flow);
                    if (n == 0)
                        n = fk_flow_to_json(&flow, json, sizeof json);
                } else {
                    n = fk_ipfix_record_to_json(&item.record, json, sizeof json);
                }
                if (n < 0) {
                    r = n;
                    break;
                }
                printf("%s\n", json);
                records++;
            } else if (item.kind == FK_IPFIX_ITEM_NO_TEMPLATE) {
                fprintf(stderr, "ipfix_decode_file: data set %u without template skipped\n",
                        item.template_id);
            }
        }
        if (r < 0)
            rc = fail("decode");
        off += hdr.length; /* the header's length says where the next message starts */
        messages++;
    }
    fprintf(stderr, "%zu messages, %zu templates, %zu records\n", messages, templates, records);
    fk_ipfix_decoder_destroy(dec);
    free(data);
    return rc;
}
