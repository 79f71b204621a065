/** Version 1.0.0: `GET /calculate/2/2` answers 4, as relup's calculator fixture 1.0.0. */
export function add(a, b) {
  return a + b;
}
