/* Winding temperature: C dT/dt = P - (T - Tamb)/R, P = 3 R_w I^2. See thermal.json. */
#include "tf_model.h"

struct tf_model_state { double time_constant; };
const size_t TF_MODEL_STATE_SIZE = sizeof(struct tf_model_state);

void tf_model_start(tf_vars *v, tf_model_state *s) {
    v->temperature = v->initialTemperature;
    s->time_constant = v->thermalResistance * v->heatCapacity;
}

tf_status tf_model_initialize(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double start_time) {
    (void)start_time;
    if (!(v->thermalResistance > 0) || !(v->heatCapacity > 0) || !(v->windingResistance >= 0)) {
        TF_LOG(ctx, TF_ERROR, "logStatusError",
               "thermalResistance (%g K/W) and heatCapacity (%g J/K) must be positive, windingResistance (%g Ohm) not negative",
               v->thermalResistance, v->heatCapacity, v->windingResistance);
        return TF_ERROR;
    }
    v->temperature = v->initialTemperature;
    s->time_constant = v->thermalResistance * v->heatCapacity;
    return TF_OK;
}

void tf_model_evaluate(tf_vars *v, tf_model_state *s) {
    (void)s;
    v->copperLosses = 3.0 * v->windingResistance * v->current * v->current;
}

tf_status tf_model_step(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double t, double h) {
    (void)ctx; (void)t;
    const double losses = 3.0 * v->windingResistance * v->current * v->current;
    const double steady = v->ambientTemperature + v->thermalResistance * losses;
    v->temperature = steady + (v->temperature - steady) * exp(-h / s->time_constant);
    return TF_OK;
}

TF_NO_TIME_EVENTS
