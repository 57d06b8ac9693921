/*
 * libzmq_object.c - the loaded libzmq.so and its DT_NEEDED entries.
 *
 * libzmq has no API that says whether its CURVE runs on libsodium or on
 * the bundled tweetnacl. A libzmq configured with libsodium links it
 * dynamically and so names it in DT_NEEDED; one built with tweetnacl does
 * not need it. dl_iterate_phdr finds the loaded libzmq.so, whose dynamic
 * section is in memory. See tools/doctor.c for the limits.
 */
#include "libzmq_object.h"

#include <link.h>
#include <stdio.h>
#include <string.h>

static bool is_libzmq(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    return strncmp(base, "libzmq.so", 9) == 0;
}

/* d_ptr of DT_STRTAB: glibc relocates it in place on most architectures,
 * other loaders leave it relative to the load address. A relative one is
 * below the load address, which tells the two apart. */
static const char *dyn_strtab(const ElfW(Dyn) *dyn, ElfW(Addr) base)
{
    for (; dyn->d_tag != DT_NULL; dyn++)
        if (dyn->d_tag == DT_STRTAB) {
            ElfW(Addr) p = dyn->d_un.d_ptr;
            return (const char *)(p < base ? p + base : p);
        }
    return NULL;
}

static int visit_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    zg_libzmq_object_t *z = arg;
    if (!info->dlpi_name || !is_libzmq(info->dlpi_name))
        return 0;
    z->found = true;
    snprintf(z->path, sizeof z->path, "%s", info->dlpi_name);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type != PT_DYNAMIC)
            continue;
        const ElfW(Dyn) *dyn = (const ElfW(Dyn) *)(info->dlpi_addr +
                                                   info->dlpi_phdr[i].p_vaddr);
        const char *strtab = dyn_strtab(dyn, info->dlpi_addr);
        for (; strtab && dyn->d_tag != DT_NULL; dyn++)
            if (dyn->d_tag == DT_NEEDED &&
                strncmp(strtab + dyn->d_un.d_val, "libsodium.so", 12) == 0)
                z->needs_sodium = true;
    }
    return 1; /* the first libzmq is the one symbols bind to */
}

void zg_libzmq_object_find(zg_libzmq_object_t *out)
{
    memset(out, 0, sizeof *out);
    dl_iterate_phdr(visit_object, out);
}
