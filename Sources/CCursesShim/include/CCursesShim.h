#ifndef SWITCHBOARD_CCURSESSHIM_H
#define SWITCHBOARD_CCURSESSHIM_H
#include <stdint.h>
// ncurses exposes these as C macros, which Swift cannot import.
int sb_color_pair(int n);
int sb_attr_bold(void);
int sb_attr_reverse(void);
int sb_attr_underline(void);
int sb_attr_dim(void);
int sb_attr_italic(void);
int sb_key_resize(void);
int sb_getmaxy(void *win);
int sb_getmaxx(void *win);
int sb_colors(void);
int sb_color_pairs(void);
void sb_set_escdelay(int ms);

// The console's terminal backend.

/// setlocale(LC_ALL, "") and whether the resulting character set is UTF-8 (1) or not (0).
int sb_setlocale_is_utf8(void);
/// The standard screen (a global variable in C, awkward from Swift 6).
void *sb_stdscr(void);
/// newterm on the process's terminal, trying $TERM then vt100; NULL when neither works.
void *sb_newterm(void);
/// Whether the terminal has an alternate screen (smcup and rmcup in its terminfo entry).
int sb_has_alternate_screen(void);
/// endwin, then, on a terminal without an alternate screen, clears it and homes the cursor.
void sb_endwin_clean(void);
/// After endwin, for a session: back onto the alternate screen (where there is one), so the session's
/// output never lands on the shell's screen.
void sb_session_enter(void);
/// Before resuming curses after a session: off the alternate screen again, so that curses' own
/// smcup on resume saves the shell's cursor, not the session's.
void sb_session_leave(void);
/// Writes `n` wide characters at (y, x) with attributes and a colour pair, without moving
/// the logical cursor elsewhere afterwards. Returns the ncurses status.
int sb_put(void *win, int y, int x, const int32_t *text, int n, int attrs, int pair);
/// Reads one key without blocking: returns 0 (none), 1 (a character in *out), 2 (a key code in *out).
int sb_read_key(void *win, uint32_t *out);
/// The C library's width of a character in the current locale (-1: not printable).
int sb_wcwidth(uint32_t c);
/// The terminal's size from the kernel (TIOCGWINSZ on fd); 0 on success.
int sb_terminal_size(int fd, int *rows, int *cols);

/// Installs the console's signal handlers:
/// - SIGWINCH: a byte on `wake_fd`, and a resize flag;
/// - SIGTERM, SIGINT, SIGHUP, SIGQUIT: a byte on `wake_fd` and a terminate flag, so the main loop restores
///   the terminal and exits; a second one while the first is pending restores it (endwin) and exits at once;
/// - SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP: endwin, then the previous handler (the Swift
///   runtime's backtrace) or the default action.
void sb_signals_install(int wake_fd);
/// Restores the handlers that were there before sb_signals_install.
void sb_signals_restore(void);
/// Takes the pending signal flags: bit 0 resize; the terminating signal's number in bits 8-15.
int sb_signals_take(void);
/// Marks the screen as active (endwin needed on a crash) or not.
void sb_screen_active(int active);
#endif
