/* The eBPF capture backend's programs (lib/bpf/flow.bpf.c) load under the
 * verifier's strict alignment rule (BPF_F_STRICT_ALIGNMENT): what it
 * enforces by itself on arches without efficient unaligned access (riscv64,
 * mips, sparc...), where a packet load at an offset its size does not
 * divide (NET_IP_ALIGN 2 + the headers before it) makes the whole object
 * fail to load. x86 accepts such loads, so only this flag shows them here.
 * Every program of the object is loaded (root, a build with BPF); nothing is
 * attached, and closing the object unloads them. */
#include <stdio.h>
#include <unistd.h>

#include "fk_test.h"

#ifdef FK_TEST_FLOW_BPF_OBJ
#include <bpf/libbpf.h>
#include <linux/bpf.h>

/* The verifier's log of a refused program, on stderr. */
static int print_warnings(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}
#endif

static void flow_programs_load_strict(void **state)
{
    (void)state;
#ifndef FK_TEST_FLOW_BPF_OBJ
    fprintf(stderr, "!!! SKIP: strict-alignment load: this build has no BPF backend\n");
    skip();
#else
    if (geteuid() != 0) {
        fprintf(stderr, "!!! SKIP: strict-alignment load of the BPF programs needs root\n");
        skip();
    }
    libbpf_set_print(print_warnings);
    struct bpf_object *obj = bpf_object__open_file(FK_TEST_FLOW_BPF_OBJ, NULL);
    assert_non_null(obj);
    struct bpf_program *prog;
    int programs = 0;
    bpf_object__for_each_program(prog, obj)
    {
        assert_int_equal(
            bpf_program__set_flags(prog, bpf_program__flags(prog) | BPF_F_STRICT_ALIGNMENT), 0);
        programs++;
    }
    assert_true(programs >= 2); /* at least the tc and XDP entry points */
    int rc = bpf_object__load(obj);
    if (rc != 0)
        fail_msg("%s does not load with BPF_F_STRICT_ALIGNMENT (%d): see the verifier's log above",
                 FK_TEST_FLOW_BPF_OBJ, rc);
    bpf_object__close(obj);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flow_programs_load_strict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
