/**
 * What a nested policy asks of the vmx/svm `<feature>`s, decided apart from writing it (set-cpu-mode
 * tests check the bytes that result).
 */
import { featureEdits, type FeatureEdits } from '../../src/cpu/feature-edits.js';
import type { HostModelCpu } from '../../src/cpu/nested.js';
import { attributeOf } from '../../src/xml/read-element.js';
import { scanXml } from '../../src/xml/scan.js';

/** The `<feature>` children of a `<cpu>` written as `inner`. */
const features = (inner: string) => scanXml(`<cpu mode='host-model'>${inner}</cpu>`).root.children.filter((c) => c.name === 'feature');

/** The edits with each element named by its name and policy, so that they compare as plain values. */
const named = (edits: FeatureEdits) => ({
  removed: edits.removed.map((f) => `${attributeOf(f, 'name')}:${attributeOf(f, 'policy')}`),
  repoliced: edits.repoliced.map(([f, policy]) => `${attributeOf(f, 'name')}:${attributeOf(f, 'policy')}→${policy}`),
  added: edits.added,
});

const AMD: HostModelCpu = { model: 'EPYC', vendor: 'AMD', features: [] };

test("'keep' asks for nothing, whatever the features", () => {
  expect(named(featureEdits(features("<feature policy='disable' name='svm'/>"), 'keep', AMD))).toEqual({ removed: [], repoliced: [], added: [] });
});

test("'off' disables vmx and svm: adds the missing one, turns another policy into disable, leaves a forbid", () => {
  const edits = featureEdits(features("<feature policy='require' name='vmx'/><feature policy='forbid' name='svm'/><feature name='pdpe1gb'/>"), 'off');
  expect(named(edits)).toEqual({ removed: [], repoliced: ['vmx:require→disable'], added: [] });
  expect(named(featureEdits([], 'off'))).toEqual({ removed: [], repoliced: [], added: [['disable', 'vmx'], ['disable', 'svm']] });
});

test("'on' removes what disables vmx/svm and requires the host's flag unless the host-model CPU requires it", () => {
  const existing = features("<feature policy='disable' name='svm'/><feature policy='forbid' name='vmx'/>");
  expect(named(featureEdits(existing, 'on', AMD))).toEqual({ removed: ['vmx:forbid', 'svm:disable'], repoliced: [], added: [['require', 'svm']] });
  expect(named(featureEdits(existing, 'on'))).toEqual({ removed: ['vmx:forbid', 'svm:disable'], repoliced: [], added: [] });
  const requiring: HostModelCpu = { ...AMD, features: [{ name: 'svm', policy: 'require' }] };
  expect(named(featureEdits(existing, 'on', requiring)).added).toEqual([]);
  expect(named(featureEdits(features("<feature policy='optional' name='svm'/>"), 'on', AMD))).toEqual({ removed: [], repoliced: ['svm:optional→require'], added: [] });
});
