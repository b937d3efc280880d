/* json.h: one analysed frame as one JSON object (the --headless output).
 *
 * {"frame":int, "t":seconds, "wall":Unix seconds|null,
 *  "face": null | {"score":f, "box":[x,y,w,h], "landmarks":[[x,y,z],...]},
 *  "fatigue": null | {"ear","mar":f, "yawn":bool, "tilt_deg","pitch_ratio","p_drowsy":f,
 *              "estimator":str, "perclos","blinks_per_min":f, "yawns":int, "alert":bool,
 *              "rules":"seed"|"wellness", "level":f, "state":"alert"|"tired"|"drowsy",
 *              "eyes":"open"|"closed", "closed_s":f, "microsleeps","long_closures","nods":int,
 *              "blink_ms":f|null, "calibrated":bool, "calib_remaining_s":f,
 *              "ear_open","ear_closed_thresh","mar_rest","mar_yawn_thresh":f},
 *  "emotion": null | {"label":str|null, "conf":f, "probs":{label:f}, "valence","arousal":f,
 *              "gate":[f,f]},
 *  "heart": null | {"bpm_pos":f|null, "quality_db":f|null, "bpm_net":f|null,
 *              "stress":f|null, "stress_level":str|null},
 *  "advisor": null | {"action":int, "action_text":str, "reward":f|null},
 *  "ms": {"face","fatigue","emotion","heart","advisor","total":f}}
 * A section is null when its model is missing or it has no data for this frame;
 * non-finite numbers are written as null. Every field, unit and null case: docs/JSON.md. */
#ifndef SM_VIEWER_JSON_H
#define SM_VIEWER_JSON_H

#include "mirror_types.h"

#include <stdbool.h>
#include <stddef.h>

/* Returns a malloc'd NUL-terminated line (no trailing newline), or NULL when out of memory. */
char *sm_result_to_json(const sm_mirror_result *r, bool landmarks);

#endif
