#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <ncursesw/curses.h>
#include "CCursesShim.h"

int sb_color_pair(int n) { return (int)COLOR_PAIR(n); }
int sb_attr_bold(void) { return (int)A_BOLD; }
int sb_attr_reverse(void) { return (int)A_REVERSE; }
int sb_attr_underline(void) { return (int)A_UNDERLINE; }
int sb_attr_dim(void) { return (int)A_DIM; }
int sb_key_resize(void) { return KEY_RESIZE; }
int sb_getmaxy(void *win) { return getmaxy((WINDOW *)win); }
int sb_getmaxx(void *win) { return getmaxx((WINDOW *)win); }
int sb_colors(void) { return COLORS; }
int sb_color_pairs(void) { return COLOR_PAIRS; }
void sb_set_escdelay(int ms) { set_escdelay(ms); }
