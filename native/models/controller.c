/* Soft starter with speed bypass and thermal derating. See controller.json. */
#include "tf_model.h"

enum { STOPPED = 0, RAMPING = 1, RUNNING = 2, DERATING = 3 };

struct tf_model_state { int32_t mode; double ramp_start; };
const size_t TF_MODEL_STATE_SIZE = sizeof(struct tf_model_state);

void tf_model_start(tf_vars *v, tf_model_state *s) {
    s->mode = STOPPED;
    s->ramp_start = 0.0;
    v->state = STOPPED;
}

tf_status tf_model_initialize(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double start_time) {
    if (!(v->rampTime > 0) || !(v->ratedVoltage > 0) || v->startVoltage > v->ratedVoltage) {
        TF_LOG(ctx, TF_ERROR, "logStatusError", "rampTime (%g s) and ratedVoltage (%g V) must be positive and startVoltage (%g V) at most ratedVoltage",
               v->rampTime, v->ratedVoltage, v->startVoltage);
        return TF_ERROR;
    }
    s->mode = v->enable ? RAMPING : STOPPED;
    s->ramp_start = start_time;
    return TF_OK;
}

void tf_model_evaluate(tf_vars *v, tf_model_state *s) {
    v->state = s->mode;
    if (!v->enable) { v->voltage = 0.0; return; }
    double base = v->ratedVoltage;
    if (s->mode == STOPPED) base = v->startVoltage; /* enabled now: the ramp starts with the next step */
    if (s->mode == RAMPING) {
        double progress = (v->time - s->ramp_start) / v->rampTime;
        progress = progress < 0 ? 0 : progress > 1 ? 1 : progress;
        base = v->startVoltage + (v->ratedVoltage - v->startVoltage) * progress;
    }
    const double excess = v->temperature - v->deratingTemperature;
    if (excess > 0) {
        const double derated = base - v->deratingGain * excess;
        base = derated > v->minimumVoltage ? derated : (v->minimumVoltage < base ? v->minimumVoltage : base);
    }
    v->voltage = base;
}

tf_status tf_model_step(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double t, double h) {
    (void)h;
    /* Inputs are held over the step: enable acts at its start, speed and temperature at its end. */
    if (!v->enable) {
        if (s->mode != STOPPED) TF_LOG(ctx, TF_OK, "logEvents", "stopped at t=%g s", t);
        s->mode = STOPPED;
        return TF_OK;
    }
    if (s->mode == STOPPED) {
        s->mode = RAMPING;
        s->ramp_start = t;
        TF_LOG(ctx, TF_OK, "logEvents", "ramp started at t=%g s", t);
    }
    if (s->mode == RAMPING && v->speed >= v->bypassSpeed) {
        s->mode = RUNNING;
        TF_LOG(ctx, TF_OK, "logEvents", "bypass at t=%g s: speed %.1f rpm reached %.1f rpm", t + h, v->speed, v->bypassSpeed);
    }
    if (s->mode == RUNNING && v->temperature > v->deratingTemperature) {
        s->mode = DERATING;
        TF_LOG(ctx, TF_WARNING, "logEvents", "derating at t=%g s: %.1f degC is above %.1f degC", t + h, v->temperature, v->deratingTemperature);
    } else if (s->mode == DERATING && v->temperature < v->deratingTemperature - v->deratingHysteresis) {
        s->mode = RUNNING;
        TF_LOG(ctx, TF_OK, "logEvents", "derating ended at t=%g s", t + h);
    }
    return TF_OK;
}

double tf_model_next_time_event(const tf_vars *v, const tf_model_state *s) {
    return s->mode == RAMPING ? s->ramp_start + v->rampTime : INFINITY;
}

tf_status tf_model_time_event(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double t) {
    (void)v;
    if (s->mode == RAMPING) {
        s->mode = RUNNING;
        TF_LOG(ctx, TF_OK, "logEvents", "ramp complete at t=%g s", t);
    }
    return TF_OK;
}
