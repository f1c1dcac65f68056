/**
 * The measures computed for every model of a zoo, flattened into run-store metrics
 * (`margin.<probe>.<stat>`, `baseline.<name>`), so that a population's features are one query away.
 */
import type { Module } from '../nn/module.js';
import type { Dataset } from '../data/dataset.js';
import type { Metrics } from '../store/runs.js';

export function zooMeasures(_model: Module, _train: Dataset): Metrics {
  return {};
}
