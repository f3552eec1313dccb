/*
 * FMI 2.0 logger shim. fmi2CallbackLogger is variadic (message is a printf format followed by its
 * arguments), and an FFI callback cannot receive variadic arguments portably. This library owns
 * the fmi2CallbackFunctions handed to the FMU: its logger formats the message with vsnprintf and
 * forwards a plain, fixed-argument call to the importer's callback (a koffi-registered function).
 * It also provides allocateMemory/freeMemory, which FMI 2.0 requires.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "tf_fmi2.h"

#define SHIM_EXPORT __attribute__((visibility("default")))

typedef void (*twinflow_fmi2_forward)(void *user, const char *instance_name, int status, const char *category, const char *message);

typedef struct {
    fmi2CallbackFunctions functions; /* first, so the FMU sees a plain fmi2CallbackFunctions */
    twinflow_fmi2_forward forward;
    void                 *user;
} shim_callbacks;

static void shim_logger(fmi2ComponentEnvironment env, fmi2String instance_name, fmi2Status status, fmi2String category,
                        fmi2String message, ...) {
    const shim_callbacks *callbacks = env;
    if (!callbacks || !callbacks->forward) return;
    if (!message) message = "";
    char stack[1024];
    va_list args, again;
    va_start(args, message);
    va_copy(again, args);
    const int needed = vsnprintf(stack, sizeof stack, message, args);
    va_end(args);
    const char *text = needed < 0 ? message : stack;
    char *heap = NULL;
    if (needed >= 0 && (size_t)needed >= sizeof stack && (heap = malloc((size_t)needed + 1)) != NULL) {
        vsnprintf(heap, (size_t)needed + 1, message, again);
        text = heap;
    }
    va_end(again);
    callbacks->forward(callbacks->user, instance_name ? instance_name : "", (int)status, category ? category : "", text);
    free(heap);
}

static void *shim_allocate(size_t count, size_t size) { return calloc(count, size); }
static void shim_free(void *pointer) { free(pointer); }

/* Returns an fmi2CallbackFunctions* to pass to fmi2Instantiate; valid until twinflow_fmi2_callbacks_free. */
SHIM_EXPORT void *twinflow_fmi2_callbacks_new(twinflow_fmi2_forward forward, void *user) {
    shim_callbacks *callbacks = calloc(1, sizeof *callbacks);
    if (!callbacks) return NULL;
    callbacks->functions.logger = shim_logger;
    callbacks->functions.allocateMemory = shim_allocate;
    callbacks->functions.freeMemory = shim_free;
    callbacks->functions.stepFinished = NULL;
    callbacks->functions.componentEnvironment = callbacks;
    callbacks->forward = forward;
    callbacks->user = user;
    return callbacks;
}

SHIM_EXPORT void twinflow_fmi2_callbacks_free(void *callbacks) { free(callbacks); }

/* A variadic call into the shim's own logger, so tests can check formatting without an FMU. */
SHIM_EXPORT void twinflow_fmi2_log_test(void *callbacks, int value, const char *text, double number) {
    shim_callbacks *c = callbacks;
    c->functions.logger(c->functions.componentEnvironment, "shim", fmi2OK, "test", "%d|%s|%.3f|%%", value, text, number);
}
