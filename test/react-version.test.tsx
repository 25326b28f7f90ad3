// @vitest-environment happy-dom
// The hooks run under each React the package supports (vitest.config.ts runs test/react-hooks
// under React 18 as well as 19): this checks that each project really has the React it names.
import { render, screen } from "@testing-library/react";
import { useSyncExternalStore, version } from "react";
import { version as domVersion } from "react-dom";
import { expect, it } from "vitest";

it("runs with the React major version its project names, react and react-dom alike", () => {
  const major = process.env.STRUCTREAM_REACT_MAJOR;
  expect(version.split(".")[0]).toBe(major);
  expect(domVersion.split(".")[0]).toBe(major);
  function Shown() {
    const v = useSyncExternalStore(
      () => () => {},
      () => version,
    );
    return <p>React {v}</p>;
  }
  render(<Shown />);
  expect(screen.getByText(`React ${version}`)).toBeTruthy();
});
