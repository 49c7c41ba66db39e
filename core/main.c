/* neardup command line: placeholder until the command table lands. */
#include <stdio.h>
int main(void)
{
    fputs("neardup: under construction\n", stderr);
    return 1;
}
