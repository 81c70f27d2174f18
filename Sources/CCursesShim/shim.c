#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#define _GNU_SOURCE 1
#include <ncursesw/curses.h>
#include <ncursesw/term.h>
#include <locale.h>
#include <langinfo.h>
#include <signal.h>
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <unistd.h>
#include <wchar.h>
#include <sys/ioctl.h>
#include "CCursesShim.h"

int sb_color_pair(int n) { return (int)COLOR_PAIR(n); }
int sb_attr_bold(void) { return (int)A_BOLD; }
int sb_attr_reverse(void) { return (int)A_REVERSE; }
int sb_attr_underline(void) { return (int)A_UNDERLINE; }
int sb_attr_dim(void) { return (int)A_DIM; }
int sb_attr_italic(void) {
#ifdef A_ITALIC
    return (int)A_ITALIC;
#else
    return 0;
#endif
}
int sb_key_resize(void) { return KEY_RESIZE; }
int sb_getmaxy(void *win) { return getmaxy((WINDOW *)win); }
int sb_getmaxx(void *win) { return getmaxx((WINDOW *)win); }
int sb_colors(void) { return COLORS; }
int sb_color_pairs(void) { return COLOR_PAIRS; }
void sb_set_escdelay(int ms) { set_escdelay(ms); }

int sb_setlocale_is_utf8(void) {
    setlocale(LC_ALL, "");
    const char *cs = nl_langinfo(CODESET);
    if (!cs) return 0;
    return strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0;
}

void *sb_stdscr(void) { return (void *)stdscr; }

/* The terminal's own way back to the shell's screen. With an alternate screen (smcup/rmcup), endwin
 * leaves it and the shell's screen comes back as it was. Without one (vt100, linux), the console
 * drew over the shell's screen: it is cleared and the cursor homed on the way out, so no frame
 * remains and the prompt starts on a clean screen. The clear sequence is prepared here, so that a
 * signal handler can write it without calling into terminfo. */
static int sb_has_alternate = 0;
static char sb_clear_bytes[64];
static size_t sb_clear_len = 0;

static int sb_collect(int c) {
    if (sb_clear_len < sizeof sb_clear_bytes && c != 0) sb_clear_bytes[sb_clear_len++] = (char)c;
    return c;
}

static void sb_write_all(const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, p, n);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

void *sb_newterm(void) {
    SCREEN *s = newterm(NULL, stdout, stdin);
    if (!s) s = newterm("vt100", stdout, stdin);
    if (!s) return NULL;
    set_term(s);
    sb_has_alternate = enter_ca_mode != NULL && enter_ca_mode != (char *)-1 && *enter_ca_mode
                    && exit_ca_mode != NULL && exit_ca_mode != (char *)-1 && *exit_ca_mode;
    sb_clear_len = 0;
    if (clear_screen != NULL && clear_screen != (char *)-1 && *clear_screen) tputs(clear_screen, 1, sb_collect);
    if (sb_clear_len == 0) { memcpy(sb_clear_bytes, "\033[H\033[2J", 7); sb_clear_len = 7; }
    return (void *)s;
}

int sb_has_alternate_screen(void) { return sb_has_alternate; }

void sb_endwin_clean(void) {
    endwin();
    if (!sb_has_alternate) sb_write_all(sb_clear_bytes, sb_clear_len);
}

void sb_session_enter(void) {
    if (sb_has_alternate) {
        fflush(stdout);
        putp(enter_ca_mode);
        fflush(stdout);
    }
}

void sb_session_leave(void) {
    if (sb_has_alternate) {
        fflush(stdout);
        putp(exit_ca_mode);
        fflush(stdout);
    }
}

int sb_put(void *win, int y, int x, const int32_t *text, int n, int attrs, int pair) {
    WINDOW *w = (WINDOW *)win;
    if (wmove(w, y, x) == ERR) return ERR;
    wattr_set(w, (attr_t)attrs, (short)pair, NULL);
    // Writing the bottom-right cell returns ERR (the cursor cannot advance) but draws it.
    waddnwstr(w, (const wchar_t *)text, n);
    return OK;
}

int sb_read_key(void *win, uint32_t *out) {
    wint_t ch = 0;
    int r = wget_wch((WINDOW *)win, &ch);
    if (r == ERR) return 0;
    *out = (uint32_t)ch;
    return r == KEY_CODE_YES ? 2 : 1;
}

int sb_wcwidth(uint32_t c) { return wcwidth((wchar_t)c); }

int sb_terminal_size(int fd, int *rows, int *cols) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0) return -1;
    *rows = ws.ws_row;
    *cols = ws.ws_col;
    return 0;
}

static volatile sig_atomic_t sb_resize_flag = 0;
static volatile sig_atomic_t sb_terminate_signal = 0;
static volatile sig_atomic_t sb_active = 0;
static int sb_wake_fd = -1;
static const int sb_term_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT };
static const int sb_crash_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP };
#define SB_NTERM (int)(sizeof(sb_term_signals) / sizeof(sb_term_signals[0]))
#define SB_NCRASH (int)(sizeof(sb_crash_signals) / sizeof(sb_crash_signals[0]))
static struct sigaction sb_old_term[SB_NTERM];
static struct sigaction sb_old_crash[SB_NCRASH];
static struct sigaction sb_old_winch;
static int sb_installed = 0;
static char sb_altstack[65536];

void sb_screen_active(int active) { sb_active = active; }

static void sb_wake(char c) {
    if (sb_wake_fd >= 0) {
        ssize_t r = write(sb_wake_fd, &c, 1);
        (void)r;
    }
}

static void sb_on_winch(int sig) {
    (void)sig;
    sb_resize_flag = 1;
    sb_wake('w');
}

static void sb_on_term(int sig) {
    if (sb_terminate_signal != 0) {
        // The main loop did not get to it (busy, or the terminal is gone): restore and leave now.
        if (sb_active) sb_endwin_clean();
        _exit(128 + sig);
    }
    sb_terminate_signal = sig;
    sb_wake('t');
}

static void sb_on_crash(int sig, siginfo_t *info, void *context) {
    if (sb_active) {
        sb_active = 0;
        sb_endwin_clean();
        // endwin leaves the cursor where it was; make sure what follows starts on a clean line.
        ssize_t r = write(STDERR_FILENO, "\r\n", 2);
        (void)r;
    }
    for (int i = 0; i < SB_NCRASH; i++) {
        if (sb_crash_signals[i] != sig) continue;
        struct sigaction *old = &sb_old_crash[i];
        // The previous handler first (the Swift runtime's backtrace), then the default action: a
        // crash signal always ends the process, even one sent with kill() that a handler returned from.
        if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction) {
            sigaction(sig, old, NULL);
            old->sa_sigaction(sig, info, context);
        } else if (!(old->sa_flags & SA_SIGINFO) && old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN && old->sa_handler) {
            sigaction(sig, old, NULL);
            old->sa_handler(sig);
        }
        break;
    }
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
}

void sb_signals_install(int wake_fd) {
    if (sb_installed) return;
    sb_installed = 1;
    sb_wake_fd = wake_fd;
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_sp = sb_altstack;
    ss.ss_size = sizeof sb_altstack;
    sigaltstack(&ss, NULL);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = sb_on_winch;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGWINCH, &sa, &sb_old_winch);

    for (int i = 0; i < SB_NTERM; i++) {
        memset(&sa, 0, sizeof sa);
        sigemptyset(&sa.sa_mask);
        sa.sa_handler = sb_on_term;
        sa.sa_flags = SA_RESTART;
        sigaction(sb_term_signals[i], &sa, &sb_old_term[i]);
    }
    for (int i = 0; i < SB_NCRASH; i++) {
        memset(&sa, 0, sizeof sa);
        sigemptyset(&sa.sa_mask);
        sa.sa_sigaction = sb_on_crash;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigaction(sb_crash_signals[i], &sa, &sb_old_crash[i]);
    }
    // A dropped SSH link closes the terminal: writes then fail with EIO/EPIPE, never kill us.
    signal(SIGPIPE, SIG_IGN);
}

void sb_signals_restore(void) {
    if (!sb_installed) return;
    sigaction(SIGWINCH, &sb_old_winch, NULL);
    for (int i = 0; i < SB_NTERM; i++) sigaction(sb_term_signals[i], &sb_old_term[i], NULL);
    for (int i = 0; i < SB_NCRASH; i++) sigaction(sb_crash_signals[i], &sb_old_crash[i], NULL);
    sb_wake_fd = -1;
    sb_installed = 0;
}

int sb_signals_take(void) {
    int flags = 0;
    if (sb_resize_flag) { sb_resize_flag = 0; flags |= 1; }
    if (sb_terminate_signal) { flags |= (sb_terminate_signal & 0xFF) << 8; }
    return flags;
}
