/* CCSDS 131.0-B TM channel-coding kernels: RS(255,223) E=16 (field 0x187, roots alpha^(11j),
 * j = 112..143), conventional <-> dual (Berlekamp) basis, interleaving with virtual fill,
 * the TM pseudo-randomizer, bit-level ASM frame synchronisation and a batch frame CRC. */
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int32_t locked;          /* 0 searching, 1 locked */
    int32_t misses;          /* consecutive markers missed while locked (flywheel) */
    uint64_t acquisitions;   /* search -> lock transitions */
    uint64_t lock_losses;    /* flywheel exhausted -> search */
    uint64_t slips;          /* re-alignments inside the slip window while locked */
    uint64_t flywheel_frames;/* frames emitted at the predicted position without a marker */
    uint64_t marker_bit_errors; /* bit errors seen in accepted markers */
} opals_sync_state;

void opals_coding_init(void);
const uint8_t *opals_dual_from_conv(void);   /* Taltab: conventional -> dual */
const uint8_t *opals_conv_from_dual(void);   /* Tal1tab: dual -> conventional */
const uint8_t *opals_pn_sequence(void);      /* 2040 randomizer bytes (period 255 bytes) */

/* Encode n codeblocks: frames are n * (223-shorten)*depth bytes, codeblocks n * (255-shorten)*depth.
 * Symbol k of a codeblock belongs to codeword k % depth. dual != 0: symbols on the wire are dual basis. */
void opals_rs_encode_blocks(const uint8_t *frames, uint8_t *codeblocks, size_t n, int depth,
                            int shorten, int dual);

/* Decode one conventional-basis codeword of 255-shorten symbols in place.
 * Returns symbols corrected (0..16) or -1 when uncorrectable (codeword left untouched). */
int opals_rs_decode_conv(uint8_t *cw, int shorten);

/* Decode n codeblocks in place; corrected[n*depth] receives per-codeword results as above.
 * Returns the number of codewords that failed. */
size_t opals_rs_decode_blocks(uint8_t *codeblocks, size_t n, int depth, int shorten, int dual,
                              int32_t *corrected);

/* XOR len bytes with the randomizer sequence starting at its first byte (in place). */
void opals_randomize(uint8_t *buf, size_t len);

/* Copy nout bytes starting at bit offset bitpos of buf (MSB first). Caller guarantees bounds. */
void opals_extract_bytes(const uint8_t *buf, uint64_t bitpos, uint8_t *out, size_t nout);

/* Frame synchronisation over a bit buffer of nbytes. Starting at bit *pos, finds CADUs of
 * cadu_bits (marker included); writes the bit offsets of their markers and a flag per frame
 * (0 marker found, 1 slip re-alignment, 2 flywheel). Stops when the next CADU (or search
 * confirmation) would not fit; *pos then holds where to resume. final != 0: end of stream. */
size_t opals_sync_scan(const uint8_t *buf, size_t nbytes, uint64_t *pos, uint32_t cadu_bits,
                       int search_tol, int lock_tol, int flywheel, int slip_window, int final,
                       opals_sync_state *st, uint64_t *out_pos, uint8_t *out_flag, size_t max_out);

/* For each CADU at out_pos: extract the codeblock after the marker, de-randomize (if asked),
 * RS-decode every interleaved codeword, and write the transfer frame (223-shorten)*depth bytes.
 * corrected[n*depth] as in opals_rs_decode_blocks; crc_ok[n] = frame CRC-16 check (last 2 bytes).
 * Returns codewords failed. */
size_t opals_cadu_decode(const uint8_t *buf, const uint64_t *positions, size_t n, int depth,
                         int shorten, int derandomize, int dual, uint8_t *frames,
                         int32_t *corrected, uint8_t *crc_ok);

uint16_t opals_coding_crc16(const uint8_t *data, size_t len);
