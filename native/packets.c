/* Packet-layer kernels. Each has a pure-Python reference in native/reference.py. */
#include <string.h>
#include "packets.h"

static uint16_t T[16][256];
static int tables_ready = 0;

static void init_tables(void) {
    for (int i = 0; i < 256; i++) {
        uint16_t c = (uint16_t)(i << 8);
        for (int b = 0; b < 8; b++) c = (c & 0x8000) ? (uint16_t)((c << 1) ^ 0x1021) : (uint16_t)(c << 1);
        T[0][i] = c;
    }
    for (int k = 1; k < 16; k++)
        for (int i = 0; i < 256; i++)
            T[k][i] = (uint16_t)((T[k - 1][i] << 8) ^ T[0][T[k - 1][i] >> 8]);
    tables_ready = 1;
}

/* Slicing-by-16 over the non-reflected CRC-16-CCITT (poly 0x1021): T[k][b] is the CRC of byte b
 * followed by k zero bytes, so n bytes fold in one step of n independent table loads. Tails of
 * 8, 4 and 2 bytes fold the same way, which keeps short packets (48 bytes) to five dependent steps. */
uint16_t opals_crc16(const uint8_t *p, size_t len, uint16_t crc) {
    if (!tables_ready) init_tables();
    while (len >= 16) {
        crc = (uint16_t)(T[15][p[0] ^ (crc >> 8)] ^ T[14][p[1] ^ (crc & 0xFF)] ^ T[13][p[2]] ^ T[12][p[3]] ^
                         T[11][p[4]] ^ T[10][p[5]] ^ T[9][p[6]] ^ T[8][p[7]] ^
                         T[7][p[8]] ^ T[6][p[9]] ^ T[5][p[10]] ^ T[4][p[11]] ^
                         T[3][p[12]] ^ T[2][p[13]] ^ T[1][p[14]] ^ T[0][p[15]]);
        p += 16;
        len -= 16;
    }
    if (len >= 8) {
        crc = (uint16_t)(T[7][p[0] ^ (crc >> 8)] ^ T[6][p[1] ^ (crc & 0xFF)] ^ T[5][p[2]] ^ T[4][p[3]] ^
                         T[3][p[4]] ^ T[2][p[5]] ^ T[1][p[6]] ^ T[0][p[7]]);
        p += 8;
        len -= 8;
    }
    if (len >= 4) {
        crc = (uint16_t)(T[3][p[0] ^ (crc >> 8)] ^ T[2][p[1] ^ (crc & 0xFF)] ^ T[1][p[2]] ^ T[0][p[3]]);
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        crc = (uint16_t)(T[1][p[0] ^ (crc >> 8)] ^ T[0][p[1] ^ (crc & 0xFF)]);
        p += 2;
        len -= 2;
    }
    if (len) crc = (uint16_t)((crc << 8) ^ T[0][((crc >> 8) ^ *p) & 0xFF]);
    return crc;
}

int64_t opals_find_marker(const uint8_t *buf, size_t len, size_t start) {
    if (len < 4) return -1;
    size_t last = len - 4;
    size_t i = start;
    while (i <= last) {
        const uint8_t *q = memchr(buf + i, 0x1A, last - i + 1);
        if (!q) return -1;
        i = (size_t)(q - buf);
        if (q[1] == 0xCF && q[2] == 0xFC && q[3] == 0x1D) return (int64_t)i;
        i++;
    }
    return -1;
}

static inline void count_seq(opals_deframe_stats *st, uint32_t apid, uint32_t seq, uint32_t len) {
    st->apid_packets[apid]++;
    st->apid_bytes[apid] += len;
    int32_t last = st->last_seq[apid];
    if (last >= 0) {
        /* Modulo 2^14 the count cannot tell a long gap from a late or repeated packet: a jump of
         * half the range or more is taken as a repeat/reorder (no loss), as in opals_seq_gap. */
        uint32_t gap = (seq - (uint32_t)last - 1) & 0x3FFF;
        if (gap < (uint32_t)OPALS_SEQ_HALF) {
            st->seq_gaps += gap;
            st->apid_gaps[apid] += gap;
        }
    }
    st->last_seq[apid] = (int32_t)seq;
}

/* apid_len (optional): for each APID the [min, max] total packet length it may have (max 0: the
 * APID is not accepted). With it, a false marker in garbage is refused at its header instead of
 * holding the stream until its claimed length has arrived.
 * Scan buf for ASM-framed packets. Returns the number of leading bytes fully handled; the
 * caller keeps the rest and offers it again with more data. With final != 0 nothing is kept. */
size_t opals_deframe(const uint8_t *buf, size_t len, int final, uint32_t max_len,
                     const uint32_t *apid_len, uint32_t *offsets, uint32_t *lengths,
                     size_t max_out, size_t *n_out, opals_deframe_stats *st) {
    size_t pos = 0, n = 0;
    while (n < max_out) {
        int64_t m = opals_find_marker(buf, len, pos);
        if (m < 0) {
            size_t keep = final ? 0 : (len - pos < 3 ? len - pos : 3);
            st->bytes_discarded += (len - pos) - keep;
            pos = len - keep;
            break;
        }
        size_t p = (size_t)m;
        st->bytes_discarded += p - pos;
        pos = p;
        if (p + 4 + 6 > len) {
            if (final) { st->bytes_discarded += len - p; pos = len; }
            break;
        }
        const uint8_t *h = buf + p + 4;
        uint32_t apid = ((uint32_t)(h[0] & 0x07) << 8) | h[1];
        uint32_t plen = 7u + (((uint32_t)h[4] << 8) | h[5]);
        if ((h[0] >> 5) != 0 || plen < 8 || plen > max_len ||
            (apid_len && (plen < apid_len[2 * apid] || plen > apid_len[2 * apid + 1]))) {
            st->bad_headers++;
            st->bytes_discarded++;
            pos = p + 1;
            continue;
        }
        if (p + 4 + plen > len) {
            if (final) { st->bytes_discarded++; pos = p + 1; continue; }
            break;
        }
        const uint8_t *pk = h;
        uint16_t want = (uint16_t)((pk[plen - 2] << 8) | pk[plen - 1]);
        if (opals_crc16(pk, plen - 2, 0xFFFF) != want) {
            st->crc_failures++;
            st->bytes_discarded++;
            pos = p + 1;
            continue;
        }
        offsets[n] = (uint32_t)(p + 4);
        lengths[n] = plen;
        n++;
        st->packets++;
        count_seq(st, apid, (((uint32_t)h[2] << 8) | h[3]) & 0x3FFF, plen);
        pos = p + 4 + plen;
    }
    *n_out = n;
    return pos;
}

static inline int decode_one(const uint8_t *pk, uint32_t plen, opals_layout *layouts,
                             const int16_t *apid_index, opals_batch_stats *st) {
    uint32_t apid = ((uint32_t)(pk[0] & 0x07) << 8) | pk[1];
    if ((pk[0] >> 4) != 0x0) { st->bad_header++; return 0; } /* version 0, telemetry (type 0) only */
    int16_t li = apid_index[apid];
    if (li < 0) { st->unknown_apid++; return 0; }
    opals_layout *L = &layouts[li];
    if (L->pkt_len != plen) { st->bad_length++; return 0; }
    uint16_t want = (uint16_t)((pk[plen - 2] << 8) | pk[plen - 1]);
    if (opals_crc16(pk, plen - 2, 0xFFFF) != want) { st->crc_failures++; return 0; }
    if (L->count >= L->capacity) { st->full = 1; return -1; }
    uint8_t *o = L->out + L->count * L->rec_size;
    const uint32_t nfields = L->nfields;
    uint8_t sizes[64];  /* a local copy: stores through o (uint8_t *) cannot alias it */
    memcpy(sizes, L->sizes, sizeof sizes);
    uint16_t seq = (uint16_t)(((pk[2] << 8) | pk[3]) & 0x3FFF);
    uint32_t coarse = ((uint32_t)pk[6] << 24) | ((uint32_t)pk[7] << 16) | ((uint32_t)pk[8] << 8) | pk[9];
    uint16_t fine = (uint16_t)((pk[10] << 8) | pk[11]);
    memcpy(o, &seq, 2);
    memcpy(o + 2, &coarse, 4);
    memcpy(o + 6, &fine, 2);
    o += 8;
    const uint8_t *s = pk + 12;
    for (uint32_t f = 0; f < nfields; f++) {
        const uint32_t size = sizes[f];
        switch (size) {
        case 1: *o = *s; break;
        case 2: { uint16_t v; memcpy(&v, s, 2); v = __builtin_bswap16(v); memcpy(o, &v, 2); break; }
        case 4: { uint32_t v; memcpy(&v, s, 4); v = __builtin_bswap32(v); memcpy(o, &v, 4); break; }
        case 8: { uint64_t v; memcpy(&v, s, 8); v = __builtin_bswap64(v); memcpy(o, &v, 8); break; }
        default: memcpy(o, s, size);
        }
        o += size;
        s += size;
    }
    L->count++;
    st->packets++;
    return 1;
}

/* Walk a buffer of back-to-back packets (a packet file, a UDP capture). Returns bytes consumed;
 * stops early (st->full) when an output is full, or at a truncated packet at the end. */
size_t opals_batch_decode(const uint8_t *buf, size_t len, opals_layout *layouts,
                          const int16_t *apid_index, opals_batch_stats *st) {
    size_t pos = 0;
    while (pos + 6 <= len) {
        const uint8_t *pk = buf + pos;
        uint32_t plen = 7u + (((uint32_t)pk[4] << 8) | pk[5]);
        if (pos + plen > len) break;
        if (plen < 14) { st->bad_length++; pos += plen; continue; }
        if (decode_one(pk, plen, layouts, apid_index, st) < 0) return pos;
        pos += plen;
    }
    st->truncated_bytes = len - pos;
    return pos;
}

/* Count the packets per APID that opals_batch_decode would look at (same walk, headers only), so
 * the caller can size each output exactly before decoding. */
void opals_count_apids(const uint8_t *buf, size_t len, uint64_t *counts) {
    size_t pos = 0;
    while (pos + 6 <= len) {
        const uint8_t *pk = buf + pos;
        uint32_t plen = 7u + (((uint32_t)pk[4] << 8) | pk[5]);
        if (pos + plen > len) break;
        if (plen >= 14) counts[((uint32_t)(pk[0] & 0x07) << 8) | pk[1]]++;
        pos += plen;
    }
}

/* Decode packets the deframer located; returns how many of them were handled. */
size_t opals_batch_decode_at(const uint8_t *buf, const uint32_t *offsets, const uint32_t *lengths,
                             size_t n, opals_layout *layouts, const int16_t *apid_index,
                             opals_batch_stats *st) {
    for (size_t i = 0; i < n; i++) {
        if (lengths[i] < 14) { st->bad_length++; continue; }
        if (decode_one(buf + offsets[i], lengths[i], layouts, apid_index, st) < 0) return i;
    }
    return n;
}
