/* Test FMU: y = k*u + offset (direct feedthrough), integral = integral of u dt. */
#include "tf_model.h"

struct tf_model_state { int unused; };
const size_t TF_MODEL_STATE_SIZE = sizeof(struct tf_model_state);

void tf_model_start(tf_vars *v, tf_model_state *s) { (void)s; v->integral = 0; }
tf_status tf_model_initialize(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double start_time) {
    (void)ctx; (void)s; (void)start_time;
    v->integral = 0;
    return TF_OK;
}
void tf_model_evaluate(tf_vars *v, tf_model_state *s) { (void)s; v->y = v->k * v->u + v->offset; }
tf_status tf_model_step(const tf_ctx *ctx, tf_vars *v, tf_model_state *s, double t, double h) {
    (void)ctx; (void)s; (void)t;
    v->integral += v->u * h;
    return TF_OK;
}
TF_NO_TIME_EVENTS
