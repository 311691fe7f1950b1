/* Packet-layer kernels: CRC-16-CCITT, sync-marker search, stream deframing, batch decode. */
#include <stddef.h>
#include <stdint.h>

#define OPALS_SEQ_HALF 8192 /* half the 14-bit sequence-count range */

typedef struct {
    uint64_t bytes_in;        /* bytes offered to the deframer */
    uint64_t bytes_discarded; /* bytes that were not part of an accepted frame */
    uint64_t packets;         /* packets accepted */
    uint64_t crc_failures;    /* candidate frames whose CRC failed */
    uint64_t bad_headers;     /* candidate frames with an impossible header */
    uint64_t seq_gaps;        /* packets missing, from sequence counts, all APIDs */
    int32_t last_seq[2048];   /* -1 until the APID is first seen */
    uint64_t apid_packets[2048];
    uint64_t apid_gaps[2048];
    uint64_t apid_bytes[2048];
} opals_deframe_stats;

typedef struct {
    uint32_t pkt_len;      /* expected total packet length; 0 = not decoded */
    uint32_t nfields;
    uint8_t sizes[64];     /* byte size of each field after the CUC secondary header */
    uint8_t *out;          /* native-endian packed records: seq u2, coarse u4, fine u2, fields */
    uint32_t rec_size;
    uint64_t capacity;     /* records */
    uint64_t count;        /* records written */
} opals_layout;

typedef struct {
    uint64_t packets;
    uint64_t crc_failures;
    uint64_t unknown_apid;
    uint64_t bad_length;
    uint64_t truncated_bytes;
    uint64_t bad_header;   /* not version 0, or not a telemetry packet */
    int full;              /* set when an output ran out of capacity */
} opals_batch_stats;

uint16_t opals_crc16(const uint8_t *data, size_t len, uint16_t init);
int64_t opals_find_marker(const uint8_t *buf, size_t len, size_t start);
size_t opals_deframe(const uint8_t *buf, size_t len, int final, uint32_t max_len,
                     const uint32_t *apid_len, uint32_t *offsets, uint32_t *lengths,
                     size_t max_out, size_t *n_out, opals_deframe_stats *st);
size_t opals_batch_decode(const uint8_t *buf, size_t len, opals_layout *layouts,
                          const int16_t *apid_index, opals_batch_stats *st);
void opals_count_apids(const uint8_t *buf, size_t len, uint64_t *counts);
size_t opals_batch_decode_at(const uint8_t *buf, const uint32_t *offsets, const uint32_t *lengths,
                             size_t n, opals_layout *layouts, const int16_t *apid_index,
                             opals_batch_stats *st);
