/* canvas.h: software drawing into a packed RGB buffer (the window's picture
 * is composed here, then uploaded once per frame; screenshots save it as is).
 *
 * Text uses our own bitmap font (font.c): 5x8 glyphs (7 rows above the
 * baseline + 1 descender row) in a 6x10 cell, printable ASCII 32..126,
 * drawn at an integer scale. Chosen because it stays legible from scale 1
 * (small windows) to 3 (HiDPI), needs no font file, and the glyph table is
 * readable ASCII art that anyone can edit. */
#ifndef SM_VIEWER_CANVAS_H
#define SM_VIEWER_CANVAS_H

#include <stddef.h>
#include <stdint.h>

#define SM_FONT_GLYPH_W 5
#define SM_FONT_GLYPH_H 8
#define SM_FONT_CELL_W 6
#define SM_FONT_CELL_H 10

typedef struct {
    uint8_t *px;   /* RGB, rows `stride` bytes */
    int w, h;
    size_t stride;
} sm_canvas;

typedef struct {
    uint8_t r, g, b;
} sm_rgb;

void sm_canvas_fill(sm_canvas *c, int x, int y, int w, int h, sm_rgb col);
/* alpha 0..255 */
void sm_canvas_blend(sm_canvas *c, int x, int y, int w, int h, sm_rgb col, int alpha);
void sm_canvas_frame(sm_canvas *c, int x, int y, int w, int h, int thick, sm_rgb col);
/* Draws s (non-printable bytes as '?') with its top-left at (x, y); returns the width drawn. */
int sm_canvas_text(sm_canvas *c, int x, int y, int scale, sm_rgb col, const char *s);
int sm_font_text_width(const char *s, int scale);
/* Text-box log, for layout tests: while set (on this thread), every
 * sm_canvas_text call appends the box it covers (x, y, w, h = its cells, the
 * canvas clipping ignored) to boxes[*n] while *n < cap. NULL stops it. */
typedef struct {
    int x, y, w, h;
    char text[48];
} sm_text_box;
void sm_canvas_text_log(sm_text_box *boxes, int cap, int *n);
/* The 5x8 bitmap of a printable character: bit 4 of row[r] is the leftmost pixel. */
const uint8_t *sm_font_glyph(int ch);

#endif
