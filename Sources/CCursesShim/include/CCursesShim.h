#ifndef SWITCHBOARD_CCURSESSHIM_H
#define SWITCHBOARD_CCURSESSHIM_H
// ncurses exposes these as C macros, which Swift cannot import.
int sb_color_pair(int n);
int sb_attr_bold(void);
int sb_attr_reverse(void);
int sb_attr_underline(void);
int sb_attr_dim(void);
int sb_key_resize(void);
int sb_getmaxy(void *win);
int sb_getmaxx(void *win);
int sb_colors(void);
int sb_color_pairs(void);
void sb_set_escdelay(int ms);
#endif
