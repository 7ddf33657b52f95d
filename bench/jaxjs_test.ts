// jax-js follows the hand-written trajectories. In a process of its own
// (see rivals_test.ts), run through tools/test_past_teardown.ts: about one
// run in 20 aborts at exit, after every test passed, on a heap that jax-js
// corrupted.

import { jaxjsRunner, jaxjsSampleRunner } from "./jaxjs_mlp.ts";
import { testSampleTrajectory, testTrajectory } from "./trajectory_check.ts";

testTrajectory("jax-js float64", jaxjsRunner("float64"), 1e-12);
testTrajectory("jax-js float32", jaxjsRunner("float32"), 1e-3);

// The loss of this sample falls to ~3e-5 in one step, and float32 knows it
// only to about an ulp of the largest logit (~4e-6): hence the floor.
// jax-js's float64 exp and log on wasm are accurate to ~1e-7 relative only
// (measured against Math.exp and Math.log), so its float64 run follows the
// reference to 1e-7 absolute in the loss (measured: 5e-8), not 1e-12.
testSampleTrajectory(
  "jax-js float64",
  jaxjsSampleRunner("float64"),
  1e-6,
  1e-1,
);
testSampleTrajectory(
  "jax-js float32",
  jaxjsSampleRunner("float32"),
  1e-3,
  1e-2,
);
