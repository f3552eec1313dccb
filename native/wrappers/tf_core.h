/*
 * State machine, variable access, stepping and FMU-state snapshots shared by the FMI 2.0 and
 * FMI 3.0 wrappers. Everything numeric happens here or in the model, never in the
 * version-specific files, which is why both builds of a model give bit-identical results.
 */
#ifndef TF_CORE_H
#define TF_CORE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tf_model.h"

typedef enum {
    TF_MODE_INSTANTIATED, TF_MODE_INITIALIZATION, TF_MODE_STEP, TF_MODE_EVENT, TF_MODE_TERMINATED, TF_MODE_ERROR
} tf_mode;

typedef struct {
    tf_mode mode;
    bool    dirty;         /* inputs changed since the outputs were evaluated */
    bool    event_pending; /* FMI 3.0 event mode: the time event at v.time waits for UpdateDiscreteStates */
    tf_vars v;
} tf_snapshot_header;

typedef struct {
    tf_ctx  ctx;
    char    name[TF_STRING_CAPACITY];
    bool    event_mode_used;
    bool    early_return_allowed;
    double  start_time;
    tf_snapshot_header st; /* everything an FMU state must capture, followed by the model state */
} tf_instance;

#define TF_MODEL_OF(inst) ((tf_model_state *)((inst) + 1))

/* Live instances of this copy of the library: a test hook, not part of FMI. */
static int tf_live_instances;
TF_EXPORT int twinflow_live_instances(void) { return tf_live_instances; }

static const char *tf_mode_name(tf_mode mode) {
    static const char *names[] = { "Instantiated", "InitializationMode", "StepMode", "EventMode", "Terminated", "Error" };
    return names[mode];
}

static tf_instance *tf_core_new(const char *name, const tf_ctx *ctx) {
    tf_instance *inst = calloc(1, sizeof(tf_instance) + TF_MODEL_STATE_SIZE);
    if (!inst) return NULL;
    snprintf(inst->name, sizeof inst->name, "%s", name ? name : "");
    inst->ctx = *ctx;
    inst->ctx.instance_name = inst->name;
    inst->st.mode = TF_MODE_INSTANTIATED;
    tf_vars_set_start(&inst->st.v);
    tf_model_start(&inst->st.v, TF_MODEL_OF(inst));
    inst->st.dirty = true;
    tf_live_instances++;
    return inst;
}

static void tf_core_free(tf_instance *inst) {
    if (!inst) return;
    tf_live_instances--;
    free(inst);
}

static void tf_core_reset(tf_instance *inst) {
    memset(&inst->st, 0, sizeof inst->st);
    memset(TF_MODEL_OF(inst), 0, TF_MODEL_STATE_SIZE);
    inst->st.mode = TF_MODE_INSTANTIATED;
    tf_vars_set_start(&inst->st.v);
    tf_model_start(&inst->st.v, TF_MODEL_OF(inst));
    inst->st.dirty = true;
}

/* Marks the instance unusable when a call failed, as FMI requires, and passes the status on. */
static tf_status tf_core_fail(tf_instance *inst, tf_status status) {
    if (status >= TF_ERROR) inst->st.mode = TF_MODE_ERROR;
    return status;
}

static bool tf_core_allowed(tf_instance *inst, const char *function, unsigned mask) {
    if (!inst) return false;
    if (mask & (1u << inst->st.mode)) return true;
    TF_LOG(&inst->ctx, TF_ERROR, "logStatusError", "%s: not allowed in %s", function, tf_mode_name(inst->st.mode));
    if (inst->st.mode != TF_MODE_ERROR) inst->st.mode = TF_MODE_ERROR;
    return false;
}

#define TF_M(mode) (1u << (mode))
#define TF_ANY_LIVE (TF_M(TF_MODE_INSTANTIATED) | TF_M(TF_MODE_INITIALIZATION) | TF_M(TF_MODE_STEP) | TF_M(TF_MODE_EVENT) | TF_M(TF_MODE_TERMINATED))

static void tf_core_evaluate_if_dirty(tf_instance *inst) {
    if (inst->st.dirty && inst->st.mode != TF_MODE_INSTANTIATED) {
        tf_model_evaluate(&inst->st.v, TF_MODEL_OF(inst));
        inst->st.dirty = false;
    }
}

/* The variable with this value reference and type, or NULL after logging why not. */
static const tf_var_info *tf_core_variable(tf_instance *inst, unsigned vr, tf_type type, const char *function) {
    if (vr >= TF_NUM_VARS || (TF_FMI_VERSION == 2 && TF_VARS[vr].fmi3_only)) {
        TF_LOG(&inst->ctx, TF_ERROR, "logStatusError", "%s: unknown value reference %u", function, vr);
        return NULL;
    }
    const tf_var_info *info = &TF_VARS[vr];
    if (info->type != type) {
        TF_LOG(&inst->ctx, TF_ERROR, "logStatusError", "%s: value reference %u (%s) has another type", function, vr, info->name);
        return NULL;
    }
    return info;
}

static bool tf_core_settable(tf_instance *inst, const tf_var_info *info, const char *function) {
    const tf_mode mode = inst->st.mode;
    const bool before_init_end = mode == TF_MODE_INSTANTIATED || mode == TF_MODE_INITIALIZATION;
    bool ok;
    switch (info->causality) {
    case TF_INPUT: ok = mode != TF_MODE_TERMINATED; break;
    case TF_PARAMETER:
        ok = info->variability == TF_TUNABLE ? (before_init_end || mode == TF_MODE_EVENT || mode == TF_MODE_STEP) : before_init_end;
        break;
    case TF_INDEPENDENT: ok = false; break;
    default: ok = before_init_end && (info->initial == TF_INITIAL_EXACT || info->initial == TF_INITIAL_APPROX); break;
    }
    if (info->variability == TF_CONSTANT) ok = false;
    if (!ok) TF_LOG(&inst->ctx, TF_ERROR, "logStatusError", "%s: %s cannot be set in %s", function, info->name, tf_mode_name(mode));
    return ok;
}

static void *tf_core_field(tf_instance *inst, const tf_var_info *info) { return (char *)&inst->st.v + info->offset; }

static tf_status tf_core_enter_initialization(tf_instance *inst, double start_time) {
    if (!tf_core_allowed(inst, "EnterInitializationMode", TF_M(TF_MODE_INSTANTIATED))) return TF_ERROR;
    inst->start_time = start_time;
    inst->st.v.time = start_time;
    inst->st.mode = TF_MODE_INITIALIZATION;
    inst->st.dirty = true;
    return TF_OK;
}

static tf_status tf_core_exit_initialization(tf_instance *inst, tf_mode next_mode) {
    if (!tf_core_allowed(inst, "ExitInitializationMode", TF_M(TF_MODE_INITIALIZATION))) return TF_ERROR;
    tf_status status = tf_model_initialize(&inst->ctx, &inst->st.v, TF_MODEL_OF(inst), inst->start_time);
    if (status >= TF_ERROR) return tf_core_fail(inst, status);
    tf_model_evaluate(&inst->st.v, TF_MODEL_OF(inst));
    inst->st.dirty = false;
    inst->st.mode = next_mode;
    return status;
}

static tf_status tf_core_time_event(tf_instance *inst, double t) {
    tf_status status = tf_model_time_event(&inst->ctx, &inst->st.v, TF_MODEL_OF(inst), t);
    tf_model_evaluate(&inst->st.v, TF_MODEL_OF(inst));
    inst->st.dirty = false;
    return status;
}

typedef struct {
    bool early_return;          /* stopped at a time event before t + h (FMI 3.0, when allowed) */
    bool event_handling_needed; /* a time event waits for event mode (FMI 3.0, when event mode is used) */
} tf_step_result;

/*
 * Advances from t to t + h, splitting the interval at time events. The end point is computed as
 * t + h, so an importer that passes h = t_next - t lands exactly on its own grid point.
 */
static tf_status tf_core_do_step(tf_instance *inst, double t, double h, bool allow_early_return, bool defer_events,
                                 tf_step_result *result) {
    result->early_return = false;
    result->event_handling_needed = false;
    if (!tf_core_allowed(inst, "DoStep", TF_M(TF_MODE_STEP))) return TF_ERROR;
    tf_vars *v = &inst->st.v;
    if (!(h > 0.0)) {
        TF_LOG(&inst->ctx, TF_ERROR, "logStatusError", "DoStep: communicationStepSize %g must be positive", h);
        return tf_core_fail(inst, TF_ERROR);
    }
    if (fabs(t - v->time) > 1e-9 * (1.0 + fabs(t))) {
        TF_LOG(&inst->ctx, TF_ERROR, "logStatusError",
               "DoStep: currentCommunicationPoint %.17g is not the FMU's time %.17g", t, v->time);
        return tf_core_fail(inst, TF_ERROR);
    }
    if (inst->st.event_pending) { /* the importer skipped event mode: handle the event now rather than lose it */
        inst->st.event_pending = false;
        tf_status status = tf_core_time_event(inst, v->time);
        if (status >= TF_ERROR) return tf_core_fail(inst, status);
    }
    if (inst->st.dirty) tf_core_evaluate_if_dirty(inst);
    const double target = t + h;
    const double tolerance = 1e-12 * (1.0 + fabs(target));
    double now = t;
    tf_status worst = TF_OK;
    for (;;) {
        const double event = tf_model_next_time_event(v, TF_MODEL_OF(inst));
        const bool event_inside = event > now && event < target - tolerance;
        const double until = event_inside ? event : target;
        tf_status status = tf_model_step(&inst->ctx, v, TF_MODEL_OF(inst), now, until - now);
        if (status == TF_DISCARD) return TF_DISCARD; /* v->time stays at the last successful time */
        if (status >= TF_ERROR) return tf_core_fail(inst, status);
        if (status > worst) worst = status;
        now = until;
        v->time = until;
        tf_model_evaluate(v, TF_MODEL_OF(inst));
        const bool event_now = event_inside || fabs(event - until) <= tolerance;
        if (event_now) {
            const bool stop_here = event_inside && allow_early_return;
            /* Event mode is only used when control returns to the importer right at the event. */
            if (defer_events && (stop_here || !event_inside)) {
                inst->st.event_pending = true;
                result->event_handling_needed = true;
            } else {
                status = tf_core_time_event(inst, until);
                if (status >= TF_ERROR) return tf_core_fail(inst, status);
            }
            if (stop_here) {
                result->early_return = true;
                return worst;
            }
        }
        if (!event_inside) return worst;
    }
}

/* ---- FMU state: a plain copy of the header and the model state ---- */
static size_t tf_snapshot_size(void) { return sizeof(tf_snapshot_header) + TF_MODEL_STATE_SIZE; }

static void tf_snapshot_take(const tf_instance *inst, void *snapshot) {
    memcpy(snapshot, &inst->st, sizeof(tf_snapshot_header));
    memcpy((char *)snapshot + sizeof(tf_snapshot_header), (const void *)(inst + 1), TF_MODEL_STATE_SIZE);
}

static void tf_snapshot_restore(tf_instance *inst, const void *snapshot) {
    memcpy(&inst->st, snapshot, sizeof(tf_snapshot_header));
    memcpy((void *)(inst + 1), (const char *)snapshot + sizeof(tf_snapshot_header), TF_MODEL_STATE_SIZE);
}

/* Serialized form: 8-byte tag, then the snapshot. The tag ties it to this model and layout. */
static uint64_t tf_serial_tag(void) {
    uint64_t hash = 1469598103934665603ull; /* FNV-1a over the token and the snapshot size */
    for (const char *c = TF_INSTANTIATION_TOKEN; *c; c++) hash = (hash ^ (unsigned char)*c) * 1099511628211ull;
    return hash ^ (uint64_t)tf_snapshot_size();
}
static size_t tf_serialized_size(void) { return sizeof(uint64_t) + tf_snapshot_size(); }

#endif /* TF_CORE_H */
