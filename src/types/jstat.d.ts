/** The part of jStat (npm `jstat`, which ships no types) that dltheory calls: distribution quantiles. */
declare module 'jstat' {
  interface JStat {
    /** The x with P(X ≤ x) = p for Student's t with `dof` degrees of freedom. */
    studentt: { inv(p: number, dof: number): number };
    /** The x with P(X ≤ x) = p for the normal distribution N(mean, std²). */
    normal: { inv(p: number, mean: number, std: number): number };
  }
  const pkg: { jStat: JStat };
  export default pkg;
}
