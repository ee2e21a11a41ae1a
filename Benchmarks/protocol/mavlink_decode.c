/*
 * The peer side of the decoder benchmark (see README.md in this folder): MAVLink 2's C parser,
 * from the headers that pymavlink's generator (mavgen) writes for common.xml. Builds MAVLink 2
 * frame streams of the same sizes as the stedi side's, then times the parser over each, fed a
 * byte at a time through mavlink_parse_char() the way MAVLink users read a port, decoding each
 * delivered message into its struct.
 *
 *   cc -O2 -I <mavgen output> mavlink_decode.c -o mavlink_decode
 *   mavlink_decode [--repeats N] [--megabytes M]
 *
 * Prints one JSON object per stream, in the format of stedi_decode.swift.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/mavlink.h"

/* SplitMix64, as on the stedi side. */
static uint64_t random_state;
static uint64_t next_random(void) {
    uint64_t z = (random_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int below(int n) { return (int)(next_random() % (uint64_t)n); }

typedef struct {
    const char *name;
    uint8_t *bytes;
    size_t count;
    size_t *starts; /* where each frame begins, then the end of the stream */
    int frames;
    int corrupted;
} stream_t;

static void append_message(stream_t *s, size_t capacity, const mavlink_message_t *msg) {
    uint8_t wire[MAVLINK_MAX_PACKET_LEN];
    uint16_t n = mavlink_msg_to_send_buffer(wire, msg);
    if (s->count + n > capacity) abort();
    s->starts[s->frames++] = s->count;
    memcpy(s->bytes + s->count, wire, n);
    s->count += n;
}

static stream_t new_stream(const char *name, size_t capacity, size_t max_frames) {
    stream_t s = {name, malloc(capacity), 0, malloc((max_frames + 1) * sizeof(size_t)), 0, 0};
    if (!s.bytes || !s.starts) abort();
    return s;
}

/* The status of sample i and its distance, as on the stedi side. */
static int sample_ok(int i) { return !(i % 50 == 49 || i % 97 == 96); }
static uint16_t distance(int i) { return (uint16_t)(300 + (i * 37) % 1500); }

/* DISTANCE_SENSOR, one sample per frame: 14-byte payload (the extensions are zero, so MAVLink 2
 * trims them), 26 bytes on the wire. Encoded on channel 1; channel 0 decodes. */
static stream_t small_stream(size_t target) {
    stream_t s = new_stream("small", target + 512, target / 20);
    mavlink_message_t msg;
    while (s.count < target) {
        int i = s.frames;
        mavlink_msg_distance_sensor_pack_chan(1, 158, MAVLINK_COMM_1, &msg, 1000000u + 10u * (uint32_t)i, 2, 400,
            sample_ok(i) ? distance(i) : UINT16_MAX, MAV_DISTANCE_SENSOR_ULTRASOUND, 0, MAV_SENSOR_ROTATION_PITCH_270,
            UINT8_MAX, 0, 0, NULL, 0);
        append_message(&s, target + 512, &msg);
    }
    s.starts[s.frames] = s.count;
    return s;
}

/* FILE_TRANSFER_PROTOCOL with 235 bytes of its 251-byte payload used: a 238-byte payload on
 * the wire (the zero tail is trimmed), 250 bytes a frame, the size of a 45-sample READING_BATCH. */
static stream_t large_stream(size_t target) {
    stream_t s = new_stream("large", target + 512, target / 200);
    mavlink_message_t msg;
    uint8_t payload[251];
    random_state = 0x4d41564c494e4bull;
    while (s.count < target) {
        memset(payload, 0, sizeof payload);
        for (int k = 0; k < 235; k++) payload[k] = (uint8_t)next_random();
        payload[234] |= 1;
        mavlink_msg_file_transfer_protocol_pack_chan(1, 158, MAVLINK_COMM_1, &msg, 0, 255, 0, payload);
        append_message(&s, target + 512, &msg);
    }
    s.starts[s.frames] = s.count;
    return s;
}

/* A copy with 1% of the frames hit by one wrong byte, chosen as on the stedi side. */
static stream_t noisy(const stream_t *clean, const char *name) {
    stream_t s = *clean;
    s.name = name;
    s.bytes = malloc(clean->count);
    if (!s.bytes) abort();
    memcpy(s.bytes, clean->bytes, clean->count);
    s.corrupted = 0;
    random_state = 0x535445444931ull;
    for (int f = 0; f < s.frames; f++) {
        if (below(100) != 0) continue;
        size_t start = s.starts[f], length = s.starts[f + 1] - start;
        size_t at = start + (size_t)below((int)length);
        s.bytes[at] ^= (uint8_t)(1 + below(255));
        s.corrupted++;
    }
    return s;
}

typedef struct {
    long messages;
    long checksum;
} pass_t;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The usual receive loop: every byte through mavlink_parse_char, each message decoded. */
__attribute__((noinline)) static pass_t decode_pass(const uint8_t *bytes, size_t count) {
    pass_t pass = {0, 0};
    mavlink_message_t msg;
    mavlink_status_t status;
    mavlink_status_t *channel = mavlink_get_channel_status(MAVLINK_COMM_0);
    memset(channel, 0, sizeof *channel);
    mavlink_reset_channel_status(MAVLINK_COMM_0);
    for (size_t i = 0; i < count; i++) {
        if (!mavlink_parse_char(MAVLINK_COMM_0, bytes[i], &msg, &status)) continue;
        pass.messages++;
        switch (msg.msgid) {
        case MAVLINK_MSG_ID_DISTANCE_SENSOR: {
            mavlink_distance_sensor_t sample;
            mavlink_msg_distance_sensor_decode(&msg, &sample);
            pass.checksum += sample.current_distance;
            break;
        }
        case MAVLINK_MSG_ID_FILE_TRANSFER_PROTOCOL: {
            mavlink_file_transfer_protocol_t ftp;
            mavlink_msg_file_transfer_protocol_decode(&msg, &ftp);
            pass.checksum += ftp.target_system + ftp.payload[234];
            break;
        }
        default:
            break;
        }
    }
    return pass;
}

int main(int argc, char **argv) {
    int repeats = 5, megabytes = 16;
    for (int i = 1; i < argc; i += 2) {
        int value = i + 1 < argc ? atoi(argv[i + 1]) : 0;
        if (value <= 0) {
            fprintf(stderr, "usage: mavlink_decode [--repeats N] [--megabytes M]\n");
            return 64;
        }
        if (!strcmp(argv[i], "--repeats")) repeats = value;
        else if (!strcmp(argv[i], "--megabytes")) megabytes = value;
        else {
            fprintf(stderr, "unknown flag %s\n", argv[i]);
            return 64;
        }
    }
    size_t target = (size_t)megabytes * 1000000u;
    stream_t streams[4];
    streams[0] = small_stream(target);
    streams[1] = large_stream(target);
    streams[2] = noisy(&streams[0], "small-noisy");
    streams[3] = noisy(&streams[1], "large-noisy");
    double *seconds = calloc((size_t)(4 * repeats), sizeof(double));
    pass_t passes[4];
    /* One untimed pass each, then the repeats, streams interleaved. */
    for (int round = 0; round <= repeats; round++) {
        for (int k = 0; k < 4; k++) {
            double start = now();
            passes[k] = decode_pass(streams[k].bytes, streams[k].count);
            double elapsed = now() - start;
            if (round > 0) seconds[k * repeats + round - 1] = elapsed;
        }
    }
    int failed = 0;
    for (int k = 0; k < 4; k++) {
        const stream_t *s = &streams[k];
        /* A clean stream must deliver every frame; a noisy one at most the frames not hit (a
         * corrupted length or start byte can swallow the frames after it). */
        if ((s->corrupted == 0 && passes[k].messages != s->frames) ||
            passes[k].messages > s->frames - s->corrupted) {
            fprintf(stderr, "error: %s: %ld messages of %d frames (%d corrupted)\n", s->name, passes[k].messages,
                s->frames, s->corrupted);
            failed = 1;
        }
        printf("{\"side\": \"mavlink\", \"stream\": \"%s\", \"bytes\": %zu, \"frames\": %d, \"corrupted\": %d, "
               "\"messages\": %ld, \"rejected\": null, \"checksum\": %ld, \"seconds\": [",
            s->name, s->count, s->frames, s->corrupted, passes[k].messages, passes[k].checksum);
        for (int r = 0; r < repeats; r++) printf("%s%.9f", r ? ", " : "", seconds[k * repeats + r]);
        printf("]}\n");
    }
    return failed;
}
