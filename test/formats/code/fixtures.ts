/**
 * A small source tree, one folder per language, written by code (no committed blobs). Each
 * language has: a class (or struct) with a method, inheritance, a call resolved through an
 * import, a call through self/this, a constructor, and a call that must stay unresolved
 * (ambiguous or unknown).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const FILES: Record<string, string> = {
  // ---------------------------------------------------------------- Python
  'py/shapes.py': `
class Shape:
    def area(self):
        return 0

class Circle(Shape):
    def __init__(self, r):
        self.r = r

    def area(self):
        return 3 * self.r * self.r

    def describe(self):
        return helper(self.area())

def helper(x):
    return str(x)

RATIO = 2
`,
  'py/app.py': `
from shapes import Circle, helper as h
import shapes as sh

def main():
    c = Circle(2)
    c.area()
    h(1)
    sh.helper(2)
    unknown_function(3)
    return c.describe()
`,
  'py/dup_a.py': 'def twin():\n    return 1\n',
  'py/dup_b.py': 'def twin():\n    return 2\n',
  'py/uses_dup.py': 'from dup_a import *\nfrom dup_b import *\n\ndef go():\n    return twin()\n',

  // ---------------------------------------------------------------- JavaScript
  'js/lib.js': `
export function add(a, b) { return a + b; }
export class Base { hello() { return 'hi'; } }
export class Counter extends Base {
  constructor() { super(); this.n = 0; }
  inc() { this.n = add(this.n, 1); return this.hello(); }
}
`,
  'js/main.js': `
import { add, Counter } from './lib.js';
const util = require('./util.js');
export const twice = (x) => add(x, x);
function run() {
  const c = new Counter();
  c.inc();
  util.format(1);
  return twice(2) + mystery(3);
}
`,
  'js/util.js': 'function format(v) { return String(v); }\nmodule.exports = { format };\n',

  // ---------------------------------------------------------------- TypeScript
  'ts/model.ts': `
export interface Named { name(): string }
export abstract class Animal implements Named {
  abstract name(): string;
  speak(): string { return this.name() + ' speaks'; }
}
export class Dog extends Animal {
  name(): string { return 'dog'; }
}
export type Id = number;
export enum Color { Red, Green }
export const makeDog = (): Dog => new Dog();
`,
  'ts/app.ts': `
import { makeDog, Dog } from './model.js';
export function main(): string {
  const d = makeDog();
  const e = new Dog();
  e.speak();
  return d.speak() + missing();
}
`,
  'ts/view.tsx': `
import { main } from './app';
export function View(props: { n: number }) {
  return <div onClick={() => main()}>{props.n}</div>;
}
export class Panel extends Component {
  render() { return View({ n: 1 }); }
}
`,

  // ---------------------------------------------------------------- Rust
  'rs/src/lib.rs': `
pub mod geom;
use crate::geom::{Point, distance};

pub trait Area { fn area(&self) -> f64; }

pub struct Counter { n: u32 }

impl Counter {
    pub fn new() -> Counter { Counter { n: 0 } }
    pub fn bump(&mut self) -> u32 { self.n += 1; self.get() }
    fn get(&self) -> u32 { self.n }
}

impl Area for Counter {
    fn area(&self) -> f64 { 0.0 }
}

pub fn run() -> f64 {
    let mut c = Counter::new();
    c.bump();
    let p = Point { x: 1.0, y: 2.0 };
    p.norm();
    external::thing();
    distance(&p, &p)
}
`,
  'rs/src/geom.rs': `
pub struct Point { pub x: f64, pub y: f64 }
impl Point {
    pub fn norm(&self) -> f64 { (self.x * self.x + self.y * self.y).sqrt() }
}
pub fn distance(a: &Point, b: &Point) -> f64 { a.norm() - b.norm() }
`,

  // ---------------------------------------------------------------- Go
  'go/server/server.go': `
package server

import "fmt"

type Handler interface { Serve() }

type Base struct{}

func (b *Base) Log(m string) { fmt.Println(m) }

type Server struct {
	Base
	port int
}

func NewServer(p int) *Server { return &Server{port: p} }

func (s *Server) Start() error {
	s.Log("start")
	return listen(s.port)
}
`,
  'go/server/listen.go': 'package server\n\nfunc listen(p int) error { return nil }\n',
  'go/main.go': `
package main

import "example.com/app/server"

func main() {
	s := server.NewServer(8080)
	s.Start()
	undefinedThing()
}
`,

  // ---------------------------------------------------------------- Java
  'java/com/acme/Shape.java': `
package com.acme;

public abstract class Shape implements Comparable<Shape> {
    public abstract double area();
    public int compareTo(Shape o) { return Double.compare(area(), o.area()); }
}
`,
  'java/com/acme/Circle.java': `
package com.acme;

public class Circle extends Shape {
    private final double r;
    public Circle(double r) { this.r = r; }
    public double area() { return Util.square(r) * 3; }
    public String describe() { return "c" + this.area() + format(r); }
    private String format(double v) { return String.valueOf(v); }
}
`,
  'java/com/acme/Util.java': `
package com.acme;

final class Util {
    static double square(double v) { return v * v; }
}
`,
  'java/com/acme/app/Main.java': `
package com.acme.app;

import com.acme.Circle;

public class Main {
    public static void main(String[] args) {
        Circle c = new Circle(1);
        c.describe();
        System.out.println(c.area());
    }
}
`,

  // ---------------------------------------------------------------- C
  'c/util.h': '#ifndef UTIL_H\n#define UTIL_H\nint clamp(int v, int lo, int hi);\nstruct point { int x; int y; };\n#endif\n',
  'c/util.c': '#include "util.h"\n\nint clamp(int v, int lo, int hi) {\n  return v < lo ? lo : v > hi ? hi : v;\n}\n',
  'c/main.c': `#include <stdio.h>
#include "util.h"

static int twice(int v) { return clamp(v * 2, 0, 100); }

int main(void) {
  printf("%d\\n", twice(3));
  return 0;
}
`,

  // ---------------------------------------------------------------- C++
  'cpp/shape.hpp': `#pragma once
namespace geo {
class Shape {
public:
  virtual ~Shape() {}
  virtual double area() const = 0;
};
class Square : public Shape {
public:
  explicit Square(double s) : s_(s) {}
  double area() const override;
  double twice() const { return 2 * area(); }
private:
  double s_;
};
}
`,
  'cpp/shape.cpp': `#include "shape.hpp"
namespace geo {
double Square::area() const { return s_ * s_; }
}
`,
  'cpp/main.cpp': `#include "shape.hpp"
#include <vector>

static double total(const geo::Square& s) { return s.area(); }

int main() {
  geo::Square sq(2.0);
  auto* p = new geo::Square(3.0);
  double t = total(sq) + p->twice();
  std::vector<int> v;
  v.push_back(1);
  return static_cast<int>(t);
}
`,
};

/** Files that must be skipped by the walk, with the reason. */
export const SKIPPED_FILES: Record<string, string> = {
  'node_modules/dep/index.js': 'module.exports = 1;\n',
  'py/build/gen.py': 'def generated():\n    pass\n',
  'ignored_dir/x.py': 'def x():\n    pass\n',
  'py/secret.py': 'def hidden():\n    pass\n',
  'local_only.py': 'def nope():\n    pass\n',
  'README.md': '# not code\n',
};

export function writeFixtureTree(root: string): void {
  for (const [rel, text] of Object.entries({ ...FILES, ...SKIPPED_FILES })) {
    const path = join(root, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  writeFileSync(join(root, '.gitignore'), 'ignored_dir/\n*.log\n');
  writeFileSync(join(root, 'py/.gitignore'), 'secret.py\n');
  mkdirSync(join(root, '.git/info'), { recursive: true });
  writeFileSync(join(root, '.git/info/exclude'), 'local_only.py\n');
  writeFileSync(join(root, '.git/HEAD'), 'ref: refs/heads/main\n');
  writeFileSync(join(root, 'py/blob.py'), Buffer.from([0x64, 0x65, 0x66, 0x00, 0x01, 0x02]));
  writeFileSync(join(root, 'py/huge.py'), `# ${'x'.repeat(3000)}\n`);
  writeFileSync(join(root, 'debug.log'), 'log\n');
}
