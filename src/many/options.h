// The Reconciler's options from a typed configuration: the one mapping from config::Config
// (environment variables, or a KafkaScaler's spec through config::FromKafkaScaler) to
// controller::ReconcilerOptions, used by env-var mode and many-targets mode alike. Pure.
#pragma once

#include "config/config.h"
#include "controller/reconciler.h"

namespace kafka_autoscaler::many {

controller::ReconcilerOptions ReconcilerOptionsFrom(const config::Config& c);

}  // namespace kafka_autoscaler::many
