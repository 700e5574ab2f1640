/* Linked into `make check SANITIZE=1` builds only. A session gives up
 * what LeakSanitizer needs at exit (it may not create threads, is not
 * dumpable, and the pre-login process has no /proc in its chroot), so
 * leak checking is off; AddressSanitizer and UBSan still stop at any
 * memory error or undefined behaviour. */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}
