/*
 * CNC spindle, mirroring the healthy machine of plant/cnc-model.ts (subStep, trueMotorCurrent):
 * same constants, same explicit 10 ms sub-steps, same order of floating-point operations, and the
 * same carry of time that does not fill a sub-step. Keep the two in step when either changes.
 */
#include "tf_model.h"

#define SUB_STEP 0.01
#define STANDBY_CURRENT 0.4
#define MAGNETISING_CURRENT 1.6
#define CURRENT_PER_RPM 0.00055
#define CURRENT_PER_LOAD 24.0
#define CURRENT_PER_ACCELERATION 0.0035
#define BEARING_SPEED_RISE 16.0
#define BEARING_LOAD_RISE 5.0
#define COOLANT_SPEED_HEAT 0.015
#define COOLANT_LOAD_HEAT 0.05
#define COOLANT_FLOW_COOLING 0.004
#define COOLANT_PASSIVE_COOLING 0.0012

struct tf_model_state {
    double pending;     /* seconds not yet filling a sub-step */
    double load;        /* lagged cutting load */
    double coolant;     /* coolant temperature, degC */
};
const size_t TF_MODEL_STATE_SIZE = sizeof(struct tf_model_state);

void tf_model_start(tf_vars *v, tf_model_state *s) {
    s->pending = 0;
    s->load = 0;
    s->coolant = v->ambientTemperature;
    v->speed = 0;
    v->acceleration = 0;
    v->bearingTemperature = v->ambientTemperature;
}

tf_status tf_model_initialize(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double start_time) {
    (void)start_time;
    if (!(v->ratedMaxSpeed > 0) || !(v->speedTimeConstant > 0) || !(v->rampLimit > 0) || !(v->loadTimeConstant > 0) ||
        !(v->bearingTimeConstant > 0)) {
        TF_LOG(ctx, TF_ERROR, "logStatusError", "ratedMaxSpeed, speedTimeConstant, rampLimit, loadTimeConstant and bearingTimeConstant must be positive");
        return TF_ERROR;
    }
    tf_model_start(v, s);
    return TF_OK;
}

void tf_model_evaluate(tf_vars *v, tf_model_state *s) {
    const bool spinning = v->speed > 1 || v->speedSetpoint > 0;
    v->motorCurrent = !spinning ? STANDBY_CURRENT
                                : STANDBY_CURRENT + MAGNETISING_CURRENT + CURRENT_PER_RPM * v->speed + CURRENT_PER_LOAD * s->load +
                                      CURRENT_PER_ACCELERATION * fabs(v->acceleration);
}

static void sub_step(tf_vars *v, tf_model_state *s) {
    const double dt = SUB_STEP;
    const double previous = v->speed;
    const double target = v->speedSetpoint;
    const double error = target - v->speed;
    const double rate = fmax(-v->rampLimit, fmin(v->rampLimit, error / v->speedTimeConstant));
    v->speed += rate * dt;
    if (fabs(target - v->speed) < 0.01) v->speed = target;
    if (v->speed < 0.01) v->speed = 0;
    v->acceleration = (v->speed - previous) / dt;

    double load_target = 0;
    if (v->load > 0 && target > 0) load_target = v->load * fmin(1, v->speed / target);
    s->load += (load_target - s->load) * (dt / v->loadTimeConstant);

    const double speed_fraction = v->speed / v->ratedMaxSpeed;
    const double speed_heat = speed_fraction * sqrt(speed_fraction);
    const double friction_rise = BEARING_SPEED_RISE * speed_heat + BEARING_LOAD_RISE * s->load * speed_fraction;
    const double bearing_target = s->coolant + friction_rise; /* coolant flowing at its nominal rate */
    v->bearingTemperature += (bearing_target - v->bearingTemperature) * (dt / v->bearingTimeConstant);
    const double heat_in = COOLANT_SPEED_HEAT * speed_heat + COOLANT_LOAD_HEAT * s->load * speed_fraction;
    const double cooling_rate = COOLANT_FLOW_COOLING * 1.0 + COOLANT_PASSIVE_COOLING;
    s->coolant += (heat_in - cooling_rate * (s->coolant - v->ambientTemperature)) * dt;
}

tf_status tf_model_step(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double t, double h) {
    (void)ctx; (void)t;
    s->pending += h;
    /* The small tolerance keeps 3 * 0.01 from being 2.9999 sub-steps (as in the simulator). */
    const long count = (long)floor(s->pending / SUB_STEP + 1e-7);
    s->pending = fmax(0, s->pending - (double)count * SUB_STEP);
    for (long i = 0; i < count; i++) sub_step(v, s);
    return TF_OK;
}

TF_NO_TIME_EVENTS
