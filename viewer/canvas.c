/* Clipped rectangle, dot and text drawing on an RGB canvas. */
#include "canvas.h"

#include <stdio.h>

static _Thread_local sm_text_box *log_boxes;
static _Thread_local int log_cap, *log_n;

void sm_canvas_text_log(sm_text_box *boxes, int cap, int *n)
{
    log_boxes = boxes;
    log_cap = cap;
    log_n = n;
}

static int clip(const sm_canvas *c, int *x, int *y, int *w, int *h)
{
    int x0 = *x < 0 ? 0 : *x, y0 = *y < 0 ? 0 : *y;
    int x1 = *x + *w > c->w ? c->w : *x + *w, y1 = *y + *h > c->h ? c->h : *y + *h;
    if (x1 <= x0 || y1 <= y0)
        return 0;
    *x = x0;
    *y = y0;
    *w = x1 - x0;
    *h = y1 - y0;
    return 1;
}

void sm_canvas_fill(sm_canvas *c, int x, int y, int w, int h, sm_rgb col)
{
    if (!clip(c, &x, &y, &w, &h))
        return;
    for (int j = 0; j < h; j++) {
        uint8_t *p = c->px + (size_t)(y + j) * c->stride + (size_t)x * 3;
        for (int i = 0; i < w; i++, p += 3) {
            p[0] = col.r;
            p[1] = col.g;
            p[2] = col.b;
        }
    }
}

void sm_canvas_blend(sm_canvas *c, int x, int y, int w, int h, sm_rgb col, int alpha)
{
    if (!clip(c, &x, &y, &w, &h))
        return;
    int ia = 255 - alpha;
    for (int j = 0; j < h; j++) {
        uint8_t *p = c->px + (size_t)(y + j) * c->stride + (size_t)x * 3;
        for (int i = 0; i < w; i++, p += 3) {
            p[0] = (uint8_t)((p[0] * ia + col.r * alpha + 127) / 255);
            p[1] = (uint8_t)((p[1] * ia + col.g * alpha + 127) / 255);
            p[2] = (uint8_t)((p[2] * ia + col.b * alpha + 127) / 255);
        }
    }
}

void sm_canvas_frame(sm_canvas *c, int x, int y, int w, int h, int t, sm_rgb col)
{
    sm_canvas_fill(c, x, y, w, t, col);
    sm_canvas_fill(c, x, y + h - t, w, t, col);
    sm_canvas_fill(c, x, y, t, h, col);
    sm_canvas_fill(c, x + w - t, y, t, h, col);
}

int sm_font_text_width(const char *s, int scale)
{
    int n = 0;
    while (s[n])
        n++;
    return n * SM_FONT_CELL_W * scale;
}

int sm_canvas_text(sm_canvas *c, int x, int y, int scale, sm_rgb col, const char *s)
{
    int x0 = x;
    if (log_boxes && log_n && *log_n < log_cap && *s) {
        sm_text_box *b = &log_boxes[(*log_n)++];
        *b = (sm_text_box){x, y, sm_font_text_width(s, scale), SM_FONT_CELL_H * scale, ""};
        snprintf(b->text, sizeof b->text, "%s", s);
    }
    for (; *s; s++, x += SM_FONT_CELL_W * scale) {
        const uint8_t *g = sm_font_glyph((unsigned char)*s);
        for (int r = 0; r < SM_FONT_GLYPH_H; r++)
            for (int b = 0; b < SM_FONT_GLYPH_W; b++)
                if (g[r] & (0x10 >> b))
                    sm_canvas_fill(c, x + b * scale, y + (r + 1) * scale, scale, scale, col);
    }
    return x - x0;
}
