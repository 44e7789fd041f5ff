/* wa_json.c - see wa_json.h. */
#include "wa_json.h"

json_t *wa_to_json(const wa_result *r)
{
    return json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:I,"
        " s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:b}",
        "out_bytes", (json_int_t)r->out_bytes, "in_bytes", (json_int_t)r->in_bytes,
        "frames_out", (json_int_t)r->frames_out, "out_records", (json_int_t)r->out_records,
        "data_frames", (json_int_t)r->data_frames, "data_payload", (json_int_t)r->data_payload,
        "links", (json_int_t)r->links, "final_baud", r->final_baud, "dur_s", r->dur_s,
        "data_span_s", r->data_span_s, "data_wire_s", r->data_wire_s, "turn_med_ms",
        r->turn_med_ms, "turn_p95_ms", r->turn_p95_ms, "turn_max_ms", r->turn_max_ms, "turns",
        (json_int_t)r->turns, "dev_data_s", r->dev_data_s, "dev_max_block_s",
        r->dev_max_block_s, "dev_other_s", r->dev_other_s, "wire_s", r->wire_s, "floor_s",
        r->floor_s, "floor_min_s", r->floor_min_s, "floor_inf_s", r->floor_inf_s, "floor_ok", r->floor_ok);
}

json_t *tap_to_json(const tap_stats *t)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I}", "writes",
                     (json_int_t)t->writes, "writes_short", (json_int_t)t->writes_short,
                     "writes_eagain", (json_int_t)t->writes_eagain, "reads",
                     (json_int_t)t->reads, "reads_empty", (json_int_t)t->reads_empty,
                     "reads_cap1", (json_int_t)t->reads_cap1, "reads_got1",
                     (json_int_t)t->reads_got1, "polls", (json_int_t)t->polls, "poll_s",
                     t->poll_s, "opens", (json_int_t)t->opens);
}
