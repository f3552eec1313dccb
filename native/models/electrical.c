/* Induction motor: equivalent-circuit torque and current, rotor inertia. See electrical.json. */
#include "tf_model.h"

struct tf_model_state { double synchronous_speed; };
const size_t TF_MODEL_STATE_SIZE = sizeof(struct tf_model_state);

/* Below this speed the load torque fades to zero, so a loaded motor at rest stays at rest. */
#define STICTION_SPEED 0.5

static double synchronous_speed(const tf_vars *v) { return 2.0 * M_PI * v->supplyFrequency / (double)v->polePairs; }

/* Torque and stator current from slip; written with slip in the numerator so s = 0 is regular. */
static void machine(const tf_vars *v, double ws, double omega, double *torque, double *current) {
    const double s = (ws - omega) / ws;
    const double vph = v->voltage / sqrt(3.0);
    const double r = v->statorResistance * s + v->rotorResistance;
    const double x = v->leakageReactance * s;
    const double den = r * r + x * x;
    *torque = 3.0 * vph * vph * v->rotorResistance * s / (ws * den);
    if (current) {
        const double re = vph * s * r / den;
        const double im = -vph * s * x / den - vph / v->magnetizingReactance;
        *current = sqrt(re * re + im * im);
    }
}

static double clamp(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

static void derivatives(const tf_vars *v, const double *x, double *dx, size_t n) {
    (void)n;
    const double omega = x[0];
    double torque;
    machine(v, synchronous_speed(v), omega, &torque, NULL);
    const double load = v->loadTorque * clamp(omega / STICTION_SPEED, -1.0, 1.0);
    dx[0] = (torque - load - v->friction * omega) / v->inertia;
}

void tf_model_start(tf_vars *v, tf_model_state *s) {
    v->speed = v->initialSpeed;
    s->synchronous_speed = v->polePairs > 0 ? synchronous_speed(v) : 0.0;
}

tf_status tf_model_initialize(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double start_time) {
    (void)start_time;
    if (v->polePairs < 1 || !(v->supplyFrequency > 0) || !(v->inertia > 0) || !(v->maxSolverStep > 0) ||
        !(v->rotorResistance > 0) || !(v->magnetizingReactance > 0)) {
        TF_LOG(ctx, TF_ERROR, "logStatusError",
               "polePairs (%d) must be at least 1; supplyFrequency (%g Hz), inertia (%g kg.m2), maxSolverStep (%g s), "
               "rotorResistance (%g Ohm) and magnetizingReactance (%g Ohm) must be positive",
               v->polePairs, v->supplyFrequency, v->inertia, v->maxSolverStep, v->rotorResistance, v->magnetizingReactance);
        return TF_ERROR;
    }
    v->speed = v->initialSpeed;
    s->synchronous_speed = synchronous_speed(v);
    return TF_OK;
}

void tf_model_evaluate(tf_vars *v, tf_model_state *s) {
    const double ws = s->synchronous_speed;
    if (!(ws > 0)) return;
    machine(v, ws, v->speed, &v->torque, &v->current);
    v->slip = (ws - v->speed) / ws;
}

tf_status tf_model_step(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double t, double h) {
    (void)ctx; (void)t; (void)s;
    double x[1] = { v->speed };
    tf_rk4(v, derivatives, x, 1, h, v->maxSolverStep);
    v->speed = x[0];
    return TF_OK;
}

TF_NO_TIME_EVENTS
