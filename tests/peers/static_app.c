/*
 * static_app.c - a statically linked program, which `zguard run` must
 * refuse before it starts (tests/test_run.py): if it ever runs, it says so.
 */
#include <stdio.h>

int main(void)
{
    puts("static-app ran");
    return 0;
}
