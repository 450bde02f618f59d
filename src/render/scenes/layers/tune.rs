//! Bound parameters of the `layers` scene, compiled once and written per frame.
//!
//! When the renderer is built, each binding's path (`layers[1].color.hue`, `rain.density`,
//! `text[0].rows`) is compiled by [`compile`] into a [`Slot`]: the typed setter of that number in
//! the scene's configuration and the part of the built scene it belongs to. Per frame, a bound
//! value that changed is written by [`Layers::set`], which marks its part; [`Layers::refresh`]
//! then recomputes the marked parts only, from the configuration, as the build did: a layer's
//! numbers, colour style and blend opacity (its UV coordinates only when its transform changed,
//! its mask's numbers keeping a field mask's state), rain, fire or a particle system's numbers,
//! a text layer's colour (its layout only when a layout setting changed), the feedback buffer's
//! settings (its pixel maps only when its amount changed), the tonemap and the transitions. The
//! scene's `hue` and `speed` reach every part. Grids, glyphs, buffers and simulation state stay.
//!
//! A part refreshed with the values of frame `i` is what building the scene with those values
//! as plain numbers gives (with this scene's simulation state), so a bound frame is the frame of
//! the same scene with the numbers written in.

use super::spec::{LayerSpec, LayersSpec, param};
use super::uv::{Uv, UvSpec};
use super::{Dirty, FieldLayer, Layers};
use crate::render::bind::Seg;
use crate::render::color::ColorSpec;
use crate::render::effects::{FireSpec, RainSpec};
use crate::render::mask::MaskSpec;
use crate::render::params::{Setter, setter_of};
use crate::render::particles::ParticleSpec;
use crate::render::post::{FeedbackSpec, TransitionSpec};
use crate::render::text::TextSpec;

/// Where a bound value goes in the configuration of the `layers` scene.
#[derive(Debug, Clone)]
pub enum Slot {
    /// The scene's own `gamma`, `hue` or `speed` (hue and speed reach every part).
    Scene(Setter<LayersSpec>),
    /// A number of the layer at this index.
    Layer(usize, LayerSlot),
    /// A number of the rain.
    Rain(Setter<RainSpec>),
    /// A number of the fire.
    Fire(Setter<FireSpec>),
    /// A number of the particle system at this index.
    Particles(usize, Setter<ParticleSpec>),
    /// A number of the text layer at this index (of the configuration's `text`).
    Text(usize, Setter<TextSpec>),
    /// A number of the feedback buffer.
    Feedback(Setter<FeedbackSpec>),
    /// A length of the transitions.
    Transition(Setter<TransitionSpec>),
}

/// Where a bound value goes in one layer.
#[derive(Debug, Clone)]
pub enum LayerSlot {
    /// The layer's own numbers and its field's.
    Own(Setter<LayerSpec>),
    /// Its `color:`.
    Color(Setter<ColorSpec>),
    /// Its `uv:`.
    Uv(Setter<UvSpec>),
    /// Its `mask:`, or a mask that one combines (the steps lead there).
    Mask(Vec<MaskStep>, Setter<MaskSpec>),
}

/// One step from a mask to a mask it combines.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaskStep {
    /// `union[i]`.
    Union(usize),
    /// `intersect[i]`.
    Intersect(usize),
    /// `subtract[i]`.
    Subtract(usize),
}

/// The mask `steps` lead to from `m`.
fn mask_at<'a>(m: &'a mut MaskSpec, steps: &[MaskStep]) -> Option<&'a mut MaskSpec> {
    let Some((first, rest)) = steps.split_first() else {
        return Some(m);
    };
    let next = match *first {
        MaskStep::Union(i) => m.union.get_mut(i),
        MaskStep::Intersect(i) => m.intersect.get_mut(i),
        MaskStep::Subtract(i) => m.subtract.get_mut(i),
    }?;
    mask_at(next, rest)
}

/// A list's index at the head of `rest` (a single mapping given for a list is item 0).
fn item(rest: &[Seg]) -> (usize, &[Seg]) {
    match rest.split_first() {
        Some((Seg::Index(i), tail)) => (*i, tail),
        _ => (0, rest),
    }
}

/// The last key of a path that must end there.
fn leaf(rest: &[Seg]) -> Option<&str> {
    match rest {
        [Seg::Key(k)] => Some(k),
        _ => None,
    }
}

/// Compiles the path of a bound numeric parameter (from `render::bind::find`, or a default
/// binding's name) into its slot in `spec` (the configuration the scene is built from). `None`
/// if the path leads to no number of `spec` (which validation rules out).
pub fn compile(spec: &LayersSpec, path: &[Seg]) -> Option<Slot> {
    let (Seg::Key(top), rest) = path.split_first()? else {
        return None;
    };
    let top = top.as_str();
    if rest.is_empty() {
        return setter_of(LayersSpec::SETTERS, top).map(Slot::Scene);
    }
    if top == param::LAYERS.name {
        let (i, rest) = item(rest);
        let lp = spec.layers.get(i)?;
        return layer_slot(lp, rest).map(|s| Slot::Layer(i, s));
    }
    if top == param::PARTICLES.name {
        let (i, rest) = item(rest);
        spec.particles.get(i)?;
        return setter_of(ParticleSpec::SETTERS, leaf(rest)?).map(|f| Slot::Particles(i, f));
    }
    if top == param::TEXT.name {
        let (i, rest) = item(rest);
        spec.text.get(i)?;
        return setter_of(TextSpec::SETTERS, leaf(rest)?).map(|f| Slot::Text(i, f));
    }
    let name = leaf(rest)?;
    if top == param::RAIN.name {
        spec.rain.as_ref()?;
        setter_of(RainSpec::SETTERS, name).map(Slot::Rain)
    } else if top == param::FIRE.name {
        spec.fire.as_ref()?;
        setter_of(FireSpec::SETTERS, name).map(Slot::Fire)
    } else if top == param::FEEDBACK.name {
        spec.feedback.as_ref()?;
        setter_of(FeedbackSpec::SETTERS, name).map(Slot::Feedback)
    } else if top == param::TRANSITION.name {
        spec.transition.as_ref()?;
        setter_of(TransitionSpec::SETTERS, name).map(Slot::Transition)
    } else {
        None
    }
}

/// The slot of a path inside one layer.
fn layer_slot(lp: &LayerSpec, rest: &[Seg]) -> Option<LayerSlot> {
    if let Some(name) = leaf(rest) {
        return setter_of(LayerSpec::SETTERS, name).map(LayerSlot::Own);
    }
    let (Seg::Key(key), rest) = rest.split_first()? else {
        return None;
    };
    if key == param::COLOR.name {
        setter_of(ColorSpec::SETTERS, leaf(rest)?).map(LayerSlot::Color)
    } else if key == param::UV.name {
        lp.uv.as_ref()?;
        setter_of(UvSpec::SETTERS, leaf(rest)?).map(LayerSlot::Uv)
    } else if key == param::MASK.name {
        let mut m: &MaskSpec = lp.mask.as_ref()?;
        let mut steps = Vec::new();
        let mut rest = rest;
        loop {
            if let Some(name) = leaf(rest) {
                return setter_of(MaskSpec::SETTERS, name).map(|f| LayerSlot::Mask(steps, f));
            }
            let (Seg::Key(list), tail) = rest.split_first()? else {
                return None;
            };
            let (i, tail) = item(tail);
            use crate::render::mask::param as mp;
            let step = if list == mp::UNION.name {
                MaskStep::Union(i)
            } else if list == mp::INTERSECT.name {
                MaskStep::Intersect(i)
            } else if list == mp::SUBTRACT.name {
                MaskStep::Subtract(i)
            } else {
                return None;
            };
            m = match step {
                MaskStep::Union(i) => m.union.get(i),
                MaskStep::Intersect(i) => m.intersect.get(i),
                MaskStep::Subtract(i) => m.subtract.get(i),
            }?;
            steps.push(step);
            rest = tail;
        }
    } else {
        None
    }
}

impl Slot {
    /// Writes `v` into `s` at this slot; false if the slot leads to nothing in `s`.
    pub fn write(&self, s: &mut LayersSpec, v: f64) -> bool {
        match self {
            Slot::Scene(f) => f(s, v),
            Slot::Layer(i, ls) => {
                let Some(lp) = s.layers.get_mut(*i) else {
                    return false;
                };
                match ls {
                    LayerSlot::Own(f) => f(lp, v),
                    LayerSlot::Color(f) => f(&mut lp.color, v),
                    LayerSlot::Uv(f) => match &mut lp.uv {
                        Some(u) => f(u, v),
                        None => return false,
                    },
                    LayerSlot::Mask(steps, f) => {
                        match lp.mask.as_mut().and_then(|m| mask_at(m, steps)) {
                            Some(m) => f(m, v),
                            None => return false,
                        }
                    }
                }
            }
            Slot::Rain(f) => match &mut s.rain {
                Some(r) => f(r, v),
                None => return false,
            },
            Slot::Fire(f) => match &mut s.fire {
                Some(r) => f(r, v),
                None => return false,
            },
            Slot::Particles(i, f) => match s.particles.get_mut(*i) {
                Some(p) => f(p, v),
                None => return false,
            },
            Slot::Text(i, f) => match s.text.get_mut(*i) {
                Some(t) => f(t, v),
                None => return false,
            },
            Slot::Feedback(f) => match &mut s.feedback {
                Some(fb) => f(fb, v),
                None => return false,
            },
            Slot::Transition(f) => match &mut s.transition {
                Some(t) => f(t, v),
                None => return false,
            },
        }
        true
    }
}

impl Dirty {
    /// Nothing changed yet, for a scene built from `spec`.
    pub(super) fn new(spec: &LayersSpec) -> Dirty {
        Dirty {
            layers: vec![false; spec.layers.len()],
            particles: vec![false; spec.particles.len()],
            texts: vec![false; spec.text.len()],
            ..Dirty::default()
        }
    }

    fn clear(&mut self) {
        self.any = false;
        self.all = false;
        self.layers.fill(false);
        self.particles.fill(false);
        self.texts.fill(false);
        self.rain = false;
        self.fire = false;
        self.feedback = false;
        self.transition = false;
    }
}

/// Marks entry `i` of a part list.
fn mark(list: &mut [bool], i: usize) {
    if let Some(d) = list.get_mut(i) {
        *d = true;
    }
}

impl FieldLayer {
    /// Takes the numbers of `lp` (the layer's configuration, numbers changed) as the build
    /// does: field settings, colour style, blend opacity, speeds, value curve, the UV transform
    /// (made again, and the coordinates with it, only when it changed), the mask's numbers and
    /// the time window.
    fn tune(&mut self, lp: &LayerSpec, hue_shift: f32, gspeed: f32) {
        if self.field.kind == lp.field.kind {
            lp.field.apply(&mut self.field);
        }
        self.color = lp.color.style(hue_shift);
        self.comp.set_opacity(lp.opacity as f32);
        self.speed = lp.speed as f32 * gspeed;
        self.offset = lp.offset as f32;
        self.threshold = lp.threshold as f32;
        self.gamma = lp.gamma as f32;
        self.contrast = lp.contrast as f32;
        if self.uv_spec != lp.uv {
            self.uv = lp.uv.as_ref().map(Uv::new);
            self.uv_spec = lp.uv;
            self.uv_done = false;
        }
        if let (Some(m), Some(ms)) = (&mut self.mask, &lp.mask) {
            m.tune(ms);
        }
        self.window = (lp.start as f32, lp.end as f32, lp.fade as f32);
    }
}

impl Layers {
    /// The configuration the scene was built from, with the bound values of the last frame
    /// written in (what [`compile`] compiles paths against).
    pub fn spec(&self) -> &LayersSpec {
        &self.spec
    }

    /// Writes a bound value (compiled into `slot` by [`compile`]) into the configuration and
    /// marks the part it changes; [`Layers::refresh`] recomputes that part.
    pub fn set(&mut self, slot: &Slot, v: f64) {
        if !slot.write(&mut self.spec, v) {
            return;
        }
        let d = &mut self.dirty;
        match slot {
            Slot::Scene(_) => d.all = true,
            Slot::Layer(i, _) => mark(&mut d.layers, *i),
            Slot::Rain(_) => d.rain = true,
            Slot::Fire(_) => d.fire = true,
            Slot::Particles(i, _) => mark(&mut d.particles, *i),
            Slot::Text(i, _) => mark(&mut d.texts, *i),
            Slot::Feedback(_) => d.feedback = true,
            Slot::Transition(_) => d.transition = true,
        }
        d.any = true;
    }

    /// Recomputes the parts marked by [`Layers::set`] since the last refresh (nothing when no
    /// bound value changed).
    pub fn refresh(&mut self) {
        if !self.dirty.any {
            return;
        }
        let d = &self.dirty;
        let spec = &self.spec;
        let hue_shift = spec.hue as f32;
        let gspeed = spec.speed as f32;
        for ((l, lp), &dirty) in self.layers.iter_mut().zip(&spec.layers).zip(&d.layers) {
            if d.all || dirty {
                l.tune(lp, hue_shift, gspeed);
            }
        }
        if let (Some((r, c)), Some(rs)) = (&mut self.rain, &spec.rain)
            && (d.all || d.rain)
        {
            r.hue = (rs.hue as f32 + hue_shift).rem_euclid(1.0);
            r.speed = rs.speed as f32 * gspeed;
            r.density = rs.density as f32;
            c.comp.set_opacity(rs.comp.opacity as f32);
        }
        if let (Some((f, c)), Some(fs)) = (&mut self.fire, &spec.fire)
            && (d.all || d.fire)
        {
            f.hue = (fs.hue() as f32 + hue_shift).rem_euclid(1.0);
            f.speed = fs.speed as f32 * gspeed;
            f.height = fs.height as f32;
            c.comp.set_opacity(fs.comp.opacity as f32);
        }
        for (((ps, c), m), &dirty) in self
            .particles
            .iter_mut()
            .zip(&spec.particles)
            .zip(&d.particles)
        {
            if d.all || dirty {
                m.write_into(ps, gspeed, hue_shift);
                c.comp.set_opacity(m.comp.opacity as f32);
            }
        }
        for (i, tx) in &mut self.texts {
            if (d.all || d.texts.get(*i).copied().unwrap_or(false))
                && let Some(m) = spec.text.get(*i)
            {
                tx.tune(&m.style(self.clip_secs));
            }
        }
        if let (Some(fb), Some(fs)) = (&mut self.feedback, &spec.feedback)
            && (d.all || d.feedback)
        {
            fb.tune(&fs.values());
        }
        if d.all
            && let Some(t) = &mut self.tonemap
        {
            t.set(spec.gamma as f32, spec.tint.rgb());
        }
        if (d.all || d.transition)
            && let Some(t) = spec.transition
        {
            (self.trans_in, self.trans_out) = t.styles();
        }
        // A blend whose opacity changed may no longer fuse with the blit (multiply at 0 and
        // above): it then composites through the scratch canvas.
        let needs_scratch = self.layers.iter().any(|l| !l.comp.lut.fusable)
            || self.rain.as_ref().is_some_and(|r| !r.1.comp.lut.fusable)
            || self.fire.as_ref().is_some_and(|r| !r.1.comp.lut.fusable)
            || self.particles.iter().any(|p| !p.1.comp.lut.fusable);
        if needs_scratch && self.scratch.len() != self.width * self.height * 3 {
            self.scratch = vec![0; self.width * self.height * 3];
        }
        self.dirty.clear();
    }
}
