/* Byte offsets of the .smw header (docs/FORMAT.md section 2) and
 * little-endian load/store helpers shared by the reader and the writer. */
#ifndef SM_SMW_LAYOUT_H
#define SM_SMW_LAYOUT_H

#include "sm_engine.h"

enum {
    SMW_OFF_MAGIC = 0,
    SMW_OFF_MAJOR = 4,
    SMW_OFF_MINOR = 6,
    SMW_OFF_BOM = 8,
    SMW_OFF_ALIGN = 12,
    SMW_OFF_NMETA = 16,
    SMW_OFF_NTENSORS = 20,
    SMW_OFF_META_OFF = 24,
    SMW_OFF_META_SIZE = 32,
    SMW_OFF_TABLE_OFF = 40,
    SMW_OFF_TABLE_SIZE = 48,
    SMW_OFF_DATA_OFF = 56,
    SMW_OFF_DATA_SIZE = 64,
    SMW_OFF_FILE_SIZE = 72,
    SMW_OFF_HEADER_CRC = 80,
    SMW_OFF_DATA_CRC = 84,
    SMW_OFF_RESERVED = 88,
    SMW_HEADER_SIZE = 128
};

#define SMW_BYTE_ORDER_MARK 0x0A0B0C0Du

static inline uint16_t smw_rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t smw_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t smw_rd64(const uint8_t *p)
{
    return (uint64_t)smw_rd32(p) | ((uint64_t)smw_rd32(p + 4) << 32);
}
static inline void smw_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void smw_wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void smw_wr64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}


#endif
