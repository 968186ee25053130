// The figures the command line tool's goldens hold (scripts/make_cli_goldens.mjs writes them,
// tests/unit/cli.test.ts checks them). The fixture is the PyTorch-made Q/K/V dump of
// tests/fixtures/io (hostile token text included).
export const GOLDEN_CASES = [
  { name: 'qkv heatmap SVG', args: ['--input', 'tests/fixtures/io/qkv.npz', '--layer', '1', '--head', '2', '--lock', '5,3'], golden: 'tests/golden/cli/qkv-layer1-head2.svg' },
  { name: 'qkv heatmap PNG', args: ['--input', 'tests/fixtures/io/qkv.npz', '--layer', '1', '--head', '2', '--lock', '5,3', '--scale', '1'], golden: 'tests/golden/cli/qkv-layer1-head2.png' },
  { name: 'qkv grid SVG', args: ['--input', 'tests/fixtures/io/qkv.npz', '--layer', '0', '--view', 'grid'], golden: 'tests/golden/cli/qkv-layer0-grid.svg' },
];
